package api

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/berth-dev/berth/core/notify"
	"github.com/berth-dev/berth/core/service"
	"github.com/berth-dev/berth/core/store"
)

// ChannelRequest creates or changes a notification channel. Settings are
// write-only (tokens, webhook URLs) and never returned; on PATCH they are
// merged key by key onto the saved ones (null removes a key), so a token
// need not be sent again to change a topic.
type ChannelRequest struct {
	Name *string `json:"name"`
	// PluginID is an installed notifier plugin, e.g. notifier.slack (create only).
	PluginID *string                     `json:"plugin_id"`
	Settings *map[string]json.RawMessage `json:"settings"`
	// Events are the event types the channel receives (GET /notification-events).
	Events *[]string `json:"events"`
	// ProjectIDs and EnvironmentIDs, when not empty, limit the channel to
	// events of those projects and environments.
	ProjectIDs     *[]uuid.UUID `json:"project_ids"`
	EnvironmentIDs *[]uuid.UUID `json:"environment_ids"`
	// InstanceEvents: also receive events about the whole instance
	// (instance administrators only).
	InstanceEvents *bool `json:"instance_events"`
	Enabled        *bool `json:"enabled"`
}

// ChannelTest is the outcome of sending a test message through a channel.
type ChannelTest struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// EventTypeList lists the event types channels subscribe to.
type EventTypeList struct {
	Items []notify.EventInfo `json:"items"`
}

func (s *Server) listChannels(c *fiber.Ctx) (List[store.NotificationChannel], error) {
	pg, err := pageParams(c)
	if err != nil {
		return List[store.NotificationChannel]{}, err
	}
	cs, more, err := s.store.ListNotificationChannels(c.UserContext(), []uuid.UUID{resolved(c).Organization.ID}, pg)
	return listOf(cs, more, func(ch store.NotificationChannel) uuid.UUID { return ch.ID }), err
}

func (s *Server) createChannel(c *fiber.Ctx, req ChannelRequest) (store.NotificationChannel, error) {
	in := service.NewChannel{Name: deref(req.Name), PluginID: deref(req.PluginID),
		InstanceEvents: req.InstanceEvents, Enabled: req.Enabled}
	if req.Settings != nil {
		in.Settings = *req.Settings
	}
	if req.Events != nil {
		in.Events = *req.Events
	}
	if req.ProjectIDs != nil {
		in.ProjectIDs = *req.ProjectIDs
	}
	if req.EnvironmentIDs != nil {
		in.EnvironmentIDs = *req.EnvironmentIDs
	}
	return s.svc.Notifications.Create(c.UserContext(), principal(c), resolved(c).Organization.ID, in)
}

func (s *Server) getChannel(c *fiber.Ctx) (store.NotificationChannel, error) {
	return resolved(c).Channel, nil
}

func (s *Server) updateChannel(c *fiber.Ctx, req ChannelRequest) (store.NotificationChannel, error) {
	in := service.ChannelChange{Name: req.Name, PluginID: req.PluginID, Events: req.Events, ProjectIDs: req.ProjectIDs,
		EnvironmentIDs: req.EnvironmentIDs, InstanceEvents: req.InstanceEvents, Enabled: req.Enabled}
	if req.Settings != nil {
		in.Settings = *req.Settings
		if in.Settings == nil {
			in.Settings = map[string]json.RawMessage{}
		}
	}
	return s.svc.Notifications.Update(c.UserContext(), principal(c), resolved(c).Channel, in)
}

func (s *Server) deleteChannel(c *fiber.Ctx) (NoContent, error) {
	return NoContent{}, s.svc.Notifications.Delete(c.UserContext(), principal(c), resolved(c).Channel)
}

func (s *Server) testChannel(c *fiber.Ctx) (ChannelTest, error) {
	msg, err := s.svc.Notifications.Test(c.UserContext(), principal(c), resolved(c).Channel)
	if serviceRefused(err) {
		return ChannelTest{}, err
	} else if err != nil {
		return ChannelTest{OK: false, Message: err.Error()}, nil
	}
	return ChannelTest{OK: true, Message: msg}, nil
}

func (s *Server) listEventTypes(c *fiber.Ctx) error {
	return c.JSON(EventTypeList{Items: s.svc.Notifications.EventTypes()})
}
