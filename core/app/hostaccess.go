package app

import (
	"net"
	"strconv"

	"github.com/berth-dev/berth/core/config"
)

// reservedPorts are the host ports berth and its Traefik listen on, which
// no tenant may publish (see core/hostaccess).
func reservedPorts(cfg config.Config) map[string]int {
	ports := map[string]int{
		"Traefik HTTP":  cfg.Proxy.HTTPPort,
		"Traefik HTTPS": cfg.Proxy.HTTPSPort,
		"Traefik's API": cfg.Proxy.APIPort,
	}
	if _, p, err := net.SplitHostPort(cfg.Addr); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			ports["the berth API and dashboard"] = n
		}
	}
	return ports
}
