package app

import (
	"reflect"
	"testing"

	"github.com/berth-dev/berth/core/config"
)

func TestReservedPorts(t *testing.T) {
	tests := []struct {
		addr string
		want map[string]int
	}{
		{":7080", map[string]int{"the berth API and dashboard": 7080, "Traefik HTTP": 80, "Traefik HTTPS": 443, "Traefik's API": 8081}},
		{"127.0.0.1:9000", map[string]int{"the berth API and dashboard": 9000, "Traefik HTTP": 80, "Traefik HTTPS": 443, "Traefik's API": 8081}},
		{"not-an-address", map[string]int{"Traefik HTTP": 80, "Traefik HTTPS": 443, "Traefik's API": 8081}},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			cfg := config.Config{Addr: tt.addr, Proxy: config.ProxyConfig{HTTPPort: 80, HTTPSPort: 443, APIPort: 8081}}
			if got := reservedPorts(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("reservedPorts = %v, want %v", got, tt.want)
			}
		})
	}
}
