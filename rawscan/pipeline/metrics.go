package pipeline

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metric describes one figure of a Status exported to Prometheus.
type metric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*Status) float64
}

// Collector exports a Pipeline's Status to Prometheus: a counter or gauge
// for every figure of the status line, the SMB results by status, and the
// probe-latency histogram. Each scrape takes one Status, so the figures of
// a scrape are consistent with each other.
type Collector struct {
	p       *Pipeline
	metrics []metric
	status  *prometheus.Desc
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns the collector of p.
func NewCollector(p *Pipeline) *Collector {
	c := &Collector{p: p}
	add := func(name, help string, kind prometheus.ValueType, v func(*Status) float64) {
		c.metrics = append(c.metrics, metric{prometheus.NewDesc("smbsweep_"+name, help, nil, nil), kind, v})
	}
	counter, gauge := prometheus.CounterValue, prometheus.GaugeValue
	add("targets_total", "Targets drawn and probed with a SYN.", counter, func(s *Status) float64 { return float64(s.Scan.Targets) })
	add("packets_sent_total", "SYN frames handed to the kernel, retries included.", counter, func(s *Status) float64 { return float64(s.Scan.Sent) })
	add("packets_received_total", "Frames the receiver read.", counter, func(s *Status) float64 { return float64(s.Scan.Received) })
	add("replies_validated_total", "Replies that passed the cookie check.", counter, func(s *Status) float64 { return float64(s.Scan.Validated) })
	add("replies_forged_total", "Replies addressed to the scan that failed the cookie.", counter, func(s *Status) float64 { return float64(s.Scan.Forged) })
	add("replies_duplicate_total", "Validated replies from targets already reported.", counter, func(s *Status) float64 { return float64(s.Scan.Duplicates) })
	add("skipped_optout_total", "Targets not probed because they were opted out.", counter, func(s *Status) float64 { return float64(s.Scan.SkippedOptOut) })
	add("receiver_drops_total", "Frames the kernel dropped before the receiver read them.", counter, func(s *Status) float64 { return float64(s.Scan.Drops) })
	add("synack_total", "Unique SYN-ACKs.", counter, func(s *Status) float64 { return float64(s.Scan.SynAck) })
	add("rst_total", "Unique RSTs.", counter, func(s *Status) float64 { return float64(s.Scan.RST) })
	add("hits_total", "Unique open hosts handed to the prober queue.", counter, func(s *Status) float64 { return float64(s.Hits) })
	add("hits_resumed_total", "Open hosts skipped because the output already had them.", counter, func(s *Status) float64 { return float64(s.Resumed) })
	add("spilled_total", "Hits that went through the spill file.", counter, func(s *Status) float64 { return float64(s.SpilledTotal) })
	add("probes_total", "SMB probes finished.", counter, func(s *Status) float64 { return float64(s.Probed) })
	add("records_written_total", "Output records written.", counter, func(s *Status) float64 { return float64(s.Written) })
	add("hits_held_total", "Hits of dense subnets held until the scan stopped sending.", counter, func(s *Status) float64 { return float64(s.Held) })
	add("probes_silent_subnet_total", "SMB probes cut short because their subnet was judged silent (a SYN proxy or tarpit).", counter, func(s *Status) float64 { return float64(s.SilentSubnet) })
	add("hits_abandoned_total", "Hits not probed because a stop cut them off.", counter, func(s *Status) float64 { return float64(s.Abandoned) })
	add("rate_limit_pps", "Send-rate budget in packets per second (0: unlimited).", gauge, func(s *Status) float64 { return s.RateLimit })
	add("send_rate_pps", "Measured send rate over the last status interval.", gauge, func(s *Status) float64 { return s.SendRate })
	add("hit_rate", "Hits per target probed.", gauge, func(s *Status) float64 { return s.HitRate })
	add("queue_depth", "Hits waiting in memory for a worker.", gauge, func(s *Status) float64 { return float64(s.Queue) })
	add("spill_pending", "Hits waiting in the spill file.", gauge, func(s *Status) float64 { return float64(s.Spilled) })
	add("probes_in_flight", "SMB probes running.", gauge, func(s *Status) float64 { return float64(s.InFlight) })
	add("probe_rate", "SMB probes finished per second over the last status interval.", gauge, func(s *Status) float64 { return s.ProbeRate })
	add("progress_ratio", "Fraction of this shard's targets drawn.", gauge, func(s *Status) float64 { return s.Done })
	add("eta_seconds", "Estimated time left in the sending phase.", gauge, func(s *Status) float64 { return s.ETA.Seconds() })
	c.status = prometheus.NewDesc("smbsweep_smb_results_total", "SMB probe results by status.", []string{"status"}, nil)
	return c
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range c.metrics {
		ch <- m.desc
	}
	ch <- c.status
	c.p.latency.Describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	st := c.p.Snapshot()
	for _, m := range c.metrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(st))
	}
	for _, s := range Statuses {
		ch <- prometheus.MustNewConstMetric(c.status, prometheus.CounterValue, float64(st.ByStatus[string(s)]), string(s))
	}
	c.p.latency.Collect(ch)
}

// Control is the optional steering side of the HTTP endpoint.
type Control struct {
	// Reload reloads the opt-out lists (blocklist.Watcher.Reload).
	Reload func() error
	// MaxRate caps POST /rate; 0 means no cap.
	MaxRate float64
}

// Handler returns the HTTP handler of --metrics-addr: GET /metrics always;
// with ctl not nil also POST /rate (form or query value "pps", or
// "scale"), POST /reload and GET /status (the Status as JSON).
func Handler(p *Pipeline, ctl *Control) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(p))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if ctl == nil {
		return mux
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.Snapshot())
	})
	mux.HandleFunc("POST /rate", func(w http.ResponseWriter, r *http.Request) {
		rate := p.Scanner().Rate()
		switch {
		case r.FormValue("pps") != "":
			v, err := strconv.ParseFloat(r.FormValue("pps"), 64)
			if err != nil || v <= 0 {
				http.Error(w, "pipeline: pps must be a positive number", http.StatusBadRequest)
				return
			}
			if ctl.MaxRate > 0 {
				v = min(v, ctl.MaxRate)
			}
			rate.Set(v)
		case r.FormValue("scale") != "":
			f, err := strconv.ParseFloat(r.FormValue("scale"), 64)
			if err != nil || f <= 0 {
				http.Error(w, "pipeline: scale must be a positive number", http.StatusBadRequest)
				return
			}
			rate.Scale(f)
			if ctl.MaxRate > 0 && rate.Get() > ctl.MaxRate {
				rate.Set(ctl.MaxRate)
			}
		default:
			http.Error(w, "pipeline: want pps=N or scale=F", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%.0f\n", rate.Get())
	})
	mux.HandleFunc("POST /reload", func(w http.ResponseWriter, r *http.Request) {
		if ctl.Reload == nil {
			http.Error(w, "pipeline: no opt-out lists to reload", http.StatusNotFound)
			return
		}
		if err := ctl.Reload(); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		fmt.Fprintln(w, "reloaded")
	})
	return mux
}
