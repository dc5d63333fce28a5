package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// AlertRuleRequest creates or changes a threshold alert rule
// (docs/alerts.md); on PATCH, fields left out keep their value.
type AlertRuleRequest struct {
	Name *string `json:"name"`
	// Metric: cpu_percent, memory_percent or disk_percent for servers;
	// cpu_percent, memory_percent or restarts_per_hour for applications and
	// databases. Required on create.
	Metric *string `json:"metric"`
	// Threshold: 0–100 for percents. Required on create.
	Threshold *float64 `json:"threshold"`
	// DurationSeconds the value must stay above the threshold, 0 (at once)
	// to 86400 (default 300).
	DurationSeconds *int `json:"duration_seconds"`
	// CooldownSeconds between two alerts of the rule, 60 to 604800
	// (default 1800).
	CooldownSeconds *int `json:"cooldown_seconds"`
	// Target (server rules): a server's node id; empty for every server.
	Target *string `json:"target"`
	// Subject (disk_percent rules): a mount such as "/"; empty for every mount.
	Subject *string `json:"subject"`
	Enabled *bool   `json:"enabled"`
}

func (r AlertRuleRequest) input() service.AlertRuleInput {
	return service.AlertRuleInput{Name: r.Name, Target: r.Target, Metric: r.Metric, Subject: r.Subject, Threshold: r.Threshold,
		DurationSeconds: r.DurationSeconds, CooldownSeconds: r.CooldownSeconds, Enabled: r.Enabled}
}

func (s *Server) listAlertRules(c *fiber.Ctx, f store.AlertRuleFilter) (List[store.AlertRule], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.AlertRule]{}, err
	}
	rules, more, err := s.svc.Alerts.List(c.UserContext(), principal(c), f, pg)
	return listOf(rules, more, func(r store.AlertRule) uuid.UUID { return r.ID }), err
}

func (s *Server) listApplicationAlertRules(c *fiber.Ctx) (List[store.AlertRule], error) {
	id := resolved(c).Application.ID
	return s.listAlertRules(c, store.AlertRuleFilter{Scope: store.AlertScopeApplication, ApplicationID: &id})
}

func (s *Server) listDatabaseAlertRules(c *fiber.Ctx) (List[store.AlertRule], error) {
	id := resolved(c).Database.ID
	return s.listAlertRules(c, store.AlertRuleFilter{Scope: store.AlertScopeDatabase, DatabaseID: &id})
}

func (s *Server) listServerAlertRules(c *fiber.Ctx) (List[store.AlertRule], error) {
	return s.listAlertRules(c, store.AlertRuleFilter{Scope: store.AlertScopeServer})
}

func (s *Server) createApplicationAlertRule(c *fiber.Ctx, req AlertRuleRequest) (store.AlertRule, error) {
	return s.svc.Alerts.CreateForApplication(c.UserContext(), principal(c), resolved(c).Application, req.input())
}

func (s *Server) createDatabaseAlertRule(c *fiber.Ctx, req AlertRuleRequest) (store.AlertRule, error) {
	return s.svc.Alerts.CreateForDatabase(c.UserContext(), principal(c), resolved(c).Database, req.input())
}

func (s *Server) createServerAlertRule(c *fiber.Ctx, req AlertRuleRequest) (store.AlertRule, error) {
	return s.svc.Alerts.CreateForServers(c.UserContext(), principal(c), req.input())
}

func (s *Server) getAlertRule(c *fiber.Ctx) (store.AlertRule, error) {
	return resolved(c).AlertRule, nil
}

func (s *Server) updateAlertRule(c *fiber.Ctx, req AlertRuleRequest) (store.AlertRule, error) {
	return s.svc.Alerts.Update(c.UserContext(), principal(c), resolved(c).AlertRule, req.input())
}

func (s *Server) deleteAlertRule(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Alerts.Delete(c.UserContext(), principal(c), resolved(c).AlertRule)
}
