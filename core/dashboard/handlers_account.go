package dashboard

import (
	"errors"
	"fmt"

	"github.com/berth-dev/berth/core/api"
	"github.com/berth-dev/berth/core/service"
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
	in := service.ProfileChange{Password: &password, CurrentPassword: current, RevokeAPIKeys: revokeKeys}
	if err := in.Validate(); err != nil {
		return fail(inputStatus(err), err)
	}
	pass, err := d.opts.SignIn.Begin(r.p.User.Email, api.ClientIP(r.c))
	if err != nil {
		return fail(throttled(r, err), err)
	}
	out, err := d.svc.Accounts.UpdateProfile(r.c.UserContext(), r.p, in)
	if errors.Is(err, service.ErrWrongPassword) {
		return fail(inputStatus(err), err)
	}
	pass.Succeeded()
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Password changed. Signed out %s elsewhere.", plural(int(out.Revoked.Sessions), "session"))
	if revokeKeys {
		msg += fmt.Sprintf(" Revoked %s.", plural(int(out.Revoked.APIKeys), "API key"))
	}
	return r.seeOther("/keys", msg)
}
