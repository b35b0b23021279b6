package pipeline

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs /metrics from h and parses it as Prometheus text.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return mfs
}

// value returns the value of the unlabelled (or status=label) metric name.
func value(mfs map[string]*dto.MetricFamily, name, label string) (float64, bool) {
	mf, ok := mfs[name]
	if !ok {
		return 0, false
	}
	for _, m := range mf.GetMetric() {
		if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsMatchMetadata scrapes /metrics while a run is going and after
// it, and checks that the final scrape's counters equal the metadata's.
func TestMetricsMatchMetadata(t *testing.T) {
	var (
		mu      sync.Mutex
		during  int
		handler http.Handler
	)
	fr := fakeRun{threads: 2, rate: 30000, workers: 16}
	fr.onStatus = func(p *Pipeline, st *Status) {
		mu.Lock()
		defer mu.Unlock()
		if handler == nil {
			handler = Handler(p, nil)
		}
		if st.Phase == PhaseDone {
			return
		}
		mfs := scrape(t, handler)
		if _, ok := value(mfs, "smbsweep_packets_sent_total", ""); !ok {
			t.Errorf("scrape during the run has no smbsweep_packets_sent_total")
		}
		during++
	}
	st, _ := fr.run(t)
	if during == 0 {
		t.Fatalf("no scrape happened during the run")
	}
	var m Metadata
	m.Finish(st, nil)
	mfs := scrape(t, handler)
	tests := []struct {
		metric, label string
		want          uint64
	}{
		{"smbsweep_packets_sent_total", "", m.PacketsSent},
		{"smbsweep_targets_total", "", m.TargetsScanned},
		{"smbsweep_packets_received_total", "", m.PacketsReceived},
		{"smbsweep_replies_validated_total", "", m.ValidationPassed},
		{"smbsweep_receiver_drops_total", "", m.Drops},
		{"smbsweep_synack_total", "", m.SynAck},
		{"smbsweep_hits_total", "", m.Hits},
		{"smbsweep_probes_total", "", m.Probed},
		{"smbsweep_records_written_total", "", m.Written},
		{"smbsweep_smb_results_total", "success", m.SMB["success"]},
		{"smbsweep_probe_duration_seconds", "", m.Probed},
	}
	for _, tt := range tests {
		got, ok := value(mfs, tt.metric, tt.label)
		if !ok {
			t.Errorf("%s{%s} missing", tt.metric, tt.label)
			continue
		}
		if uint64(got) != tt.want {
			t.Errorf("%s{%s} = %v, metadata says %d", tt.metric, tt.label, got, tt.want)
		}
	}
	if m.Hits == 0 || m.PacketsSent != 1<<16 {
		t.Errorf("metadata: %d hits, %d sent; want some hits and 65536 sent", m.Hits, m.PacketsSent)
	}
}

func TestControlEndpoints(t *testing.T) {
	fr := fakeRun{scanOnly: true}
	fr.run(t)
	reloads := 0
	h := Handler(fr.p, &Control{Reload: func() error { reloads++; return nil }, MaxRate: 5000})
	tests := []struct {
		name, method, path string
		code               int
		body               string
	}{
		{"metrics", "GET", "/metrics", 200, "smbsweep_hits_total"},
		{"status", "GET", "/status", 200, `"phase":"done"`},
		{"rate", "POST", "/rate?pps=2000", 200, "2000"},
		{"rate capped", "POST", "/rate?pps=9000", 200, "5000"},
		{"scale", "POST", "/rate?scale=0.5", 200, "2500"},
		{"bad rate", "POST", "/rate?pps=-1", 400, "positive"},
		{"rate GET", "GET", "/rate", 405, ""},
		{"reload", "POST", "/reload", 200, "reloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("%s %s: %d %q, want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.code, tt.body)
			}
		})
	}
	if reloads != 1 {
		t.Errorf("%d reloads, want 1", reloads)
	}
	// Without Control, only /metrics is served.
	rec := httptest.NewRecorder()
	Handler(fr.p, nil).ServeHTTP(rec, httptest.NewRequest("POST", "/rate?pps=1", nil))
	if rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /rate without --control: %d, want 404", rec.Code)
	}
}
