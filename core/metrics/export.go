package metrics

import (
	"fmt"
	"io"
	"strings"

	vm "github.com/VictoriaMetrics/metrics"
)

// WritePrometheus writes the latest round's figures in the Prometheus
// text format: berth_server_* per server, berth_app_* per application and
// berth_database_* per database, labelled with their ids and names (app or database, project,
// environment).
func (s *Sampler) WritePrometheus(w io.Writer) {
	s.mu.Lock()
	r := s.latest
	names := make(map[string]string, len(r.Workloads))
	for _, wl := range r.Workloads {
		n := s.names[wl.ID]
		key := "app"
		if wl.Kind == KindDatabase {
			key = "database"
		}
		names[wl.ID.String()] = fmt.Sprintf(`%s=%s,project=%s,environment=%s`, key, quote(n.Name), quote(n.Project), quote(n.Environment))
	}
	s.mu.Unlock()
	if r.At.IsZero() {
		return
	}
	for _, h := range r.Servers {
		l := fmt.Sprintf(`{server=%s,name=%s}`, quote(h.NodeID), quote(h.Name))
		vm.WriteGaugeFloat64(w, "berth_server_cpu_percent"+l, h.CPUPercent)
		vm.WriteGaugeUint64(w, "berth_server_memory_used_bytes"+l, h.MemUsedBytes)
		vm.WriteGaugeUint64(w, "berth_server_memory_total_bytes"+l, h.MemTotalBytes)
		vm.WriteGaugeFloat64(w, "berth_server_load1"+l, h.Load1)
		vm.WriteGaugeFloat64(w, "berth_server_load5"+l, h.Load5)
		vm.WriteGaugeFloat64(w, "berth_server_load15"+l, h.Load15)
		vm.WriteGaugeFloat64(w, "berth_server_network_receive_bytes_per_second"+l, h.NetRxBps)
		vm.WriteGaugeFloat64(w, "berth_server_network_transmit_bytes_per_second"+l, h.NetTxBps)
		for _, d := range h.Disks {
			dl := fmt.Sprintf(`{server=%s,name=%s,mount=%s}`, quote(h.NodeID), quote(h.Name), quote(d.Mount))
			vm.WriteGaugeUint64(w, "berth_server_disk_used_bytes"+dl, d.UsedBytes)
			vm.WriteGaugeUint64(w, "berth_server_disk_total_bytes"+dl, d.TotalBytes)
		}
	}
	for _, wl := range r.Workloads {
		prefix, idLabel := "berth_app_", "app_id"
		if wl.Kind == KindDatabase {
			prefix, idLabel = "berth_database_", "database_id"
		}
		l := fmt.Sprintf(`{%s=%s,%s}`, idLabel, quote(wl.ID.String()), names[wl.ID.String()])
		vm.WriteGaugeUint64(w, prefix+"tasks"+l, uint64(wl.Tasks))
		vm.WriteGaugeFloat64(w, prefix+"cpu_percent"+l, wl.CPUPercent)
		vm.WriteGaugeUint64(w, prefix+"memory_used_bytes"+l, wl.MemUsedBytes)
		vm.WriteGaugeUint64(w, prefix+"memory_limit_bytes"+l, wl.MemLimitBytes)
		vm.WriteGaugeFloat64(w, prefix+"network_receive_bytes_per_second"+l, wl.NetRxBps)
		vm.WriteGaugeFloat64(w, prefix+"network_transmit_bytes_per_second"+l, wl.NetTxBps)
		vm.WriteGaugeFloat64(w, prefix+"block_read_bytes_per_second"+l, wl.BlockReadBps)
		vm.WriteGaugeFloat64(w, prefix+"block_write_bytes_per_second"+l, wl.BlockWriteBps)
		vm.WriteGaugeUint64(w, prefix+"restarts_last_hour"+l, uint64(wl.Restarts))
	}
}

// quote is a Prometheus label value: double-quoted with backslash, quote
// and newline escaped.
func quote(v string) string {
	return `"` + labelEscaper.Replace(v) + `"`
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
