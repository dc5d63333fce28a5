package dashboard

import (
	"fmt"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/auth"
	"github.com/berth-dev/berth/core/store"
	"github.com/gofiber/fiber/v2"
)

// changePassword sets a new password after checking the current one
// (throttled like sign-in, since it is a password guess too), ends the
// user's other sessions and, when asked, revokes their API keys, in one
// transaction.
func (d *Dashboard) changePassword(r *request) error {
	current := r.c.FormValue("current_password")
	password := r.c.FormValue("password")
	revokeKeys := r.c.FormValue("revoke_api_keys") == "yes"
	fail := func(status int, err error) error {
		return d.renderKeys(r, status, nil, "password", formWith(r, err, "revoke_api_keys"))
	}
	if current == "" {
		return fail(fiber.StatusUnprocessableEntity, invalid("current_password", "is required"))
	}
	if err := validatePassword("password", password); err != nil {
		return fail(fiber.StatusUnprocessableEntity, err)
	}
	pass, err := d.opts.SignIn.Begin(r.p.User.Email, api.ClientIP(r.c))
	if err != nil {
		return fail(throttled(r, err), err)
	}
	if !auth.CheckPassword(r.p.User.PasswordHash, current) {
		return fail(fiber.StatusUnprocessableEntity, invalid("current_password", "is wrong"))
	}
	pass.Succeeded()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	_, revoked, err := d.store.UpdateUserRevoking(r.c.UserContext(), r.p.User.ID, store.UserUpdate{PasswordHash: &hash},
		store.Revocation{KeepSession: r.p.SessionID, APIKeys: revokeKeys})
	if err != nil {
		return err
	}
	d.log.Info("password changed from the dashboard", "user", r.p.User.ID, "sessions_ended", revoked.Sessions,
		"api_keys_revoked", revoked.APIKeys)
	msg := fmt.Sprintf("Password changed. Signed out %s elsewhere.", plural(int(revoked.Sessions), "session"))
	if revokeKeys {
		msg += fmt.Sprintf(" Revoked %s.", plural(int(revoked.APIKeys), "API key"))
	}
	return r.seeOther("/keys", msg)
}
