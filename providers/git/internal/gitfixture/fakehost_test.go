package gitfixture

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDecodeBody(t *testing.T) {
	for _, tt := range []struct {
		name, contentType, body string
		ok                      bool
	}{
		{"documented fields", "application/json", `{"state": "success", "context": "berth"}`, true},
		{"form encoded", "application/x-www-form-urlencoded", `{"state": "success"}`, false},
		{"undocumented field", "application/json", `{"state": "success", "color": "green"}`, false},
		{"number", "application/json", `{"state": 1}`, false},
		{"not an object", "application/json", `["state"]`, false},
	} {
		r := httptest.NewRequest("POST", "/statuses/x", strings.NewReader(tt.body))
		r.Header.Set("Content-Type", tt.contentType)
		body, err := DecodeBody(r, "state", "context")
		if (err == nil) != tt.ok || (tt.ok && body["state"] != "success") {
			t.Errorf("%s: DecodeBody = %v, %v", tt.name, body, err)
		}
	}
}
