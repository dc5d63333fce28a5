package config

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{"defaults", map[string]string{}, func(t *testing.T, c Config) {
			if c.Name != "berth" || c.Addr != ":7080" || c.DataDir != "/var/lib/berth" || c.Proxy.HTTPPort != 80 ||
				c.Proxy.APIPort != 8081 || c.SessionTTL != 168*time.Hour || c.PublicURL != "http://localhost:7080" || c.SecureCookies {
				t.Fatalf("defaults wrong: %+v", c)
			}
		}, ""},
		{"https public url turns on secure cookies", map[string]string{"BERTH_PUBLIC_URL": "https://paas.example.com/"}, func(t *testing.T, c Config) {
			if !c.SecureCookies || c.PublicURL != "https://paas.example.com" {
				t.Fatalf("got %+v", c)
			}
		}, ""},
		{"trusted proxies", map[string]string{"BERTH_TRUSTED_PROXIES": " 10.0.0.1, 172.16.0.0/12,,::1 "}, func(t *testing.T, c Config) {
			if strings.Join(c.TrustedProxies, " ") != "10.0.0.1 172.16.0.0/12 ::1" {
				t.Fatalf("TrustedProxies = %q", c.TrustedProxies)
			}
		}, ""},
		{"bad trusted proxy", map[string]string{"BERTH_TRUSTED_PROXIES": "10.0.0.1,proxy.example.com"}, nil, "BERTH_TRUSTED_PROXIES"},
		{"bad name", map[string]string{"BERTH_NAME": "Bad_Name"}, nil, "BERTH_NAME"},
		{"bad port", map[string]string{"BERTH_HTTP_PORT": "99999"}, nil, "BERTH_HTTP_PORT"},
		{"bad addr", map[string]string{"BERTH_ADDR": "nope"}, nil, "BERTH_ADDR"},
		{"bad bool", map[string]string{"BERTH_DISABLE_PROXY": "maybe"}, nil, "BERTH_DISABLE_PROXY"},
		{"bad key", map[string]string{"BERTH_SECRET_KEY": "c2hvcnQ="}, nil, "BERTH_SECRET_KEY"},
		{"bad ttl", map[string]string{"BERTH_SESSION_TTL": "1s"}, nil, "BERTH_SESSION_TTL"},
		{"bad level", map[string]string{"BERTH_LOG_LEVEL": "loud"}, nil, "BERTH_LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want mention of %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
