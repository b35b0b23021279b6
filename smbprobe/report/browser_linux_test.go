package report

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromiumPath is Debian's chromium: apt-get install --no-install-recommends
// chromium fonts-dejavu-core.
const chromiumPath = "/usr/bin/chromium"

var screenshot = flag.String("screenshot", "", "also save TestReportRendersInChromium's screenshot to this path (docs/report.png)")

// chromium runs headless Chromium on a local file in a fresh network
// namespace with nothing but a down loopback, so the browser cannot reach
// any network whatever it tries; the page must need none. It returns
// stdout and stderr.
func chromium(t *testing.T, page string, args ...string) (stdout, stderr string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s absent: install Debian's chromium to run this test", chromiumPath)
	}
	// As root, a plain network namespace; otherwise inside a user
	// namespace too. Without either, skip: never run the browser in the
	// machine's own network namespace.
	isolate := []string{"unshare", "--net"}
	if os.Geteuid() != 0 {
		isolate = []string{"unshare", "--user", "--map-root-user", "--net"}
	}
	if out, err := exec.Command(isolate[0], append(isolate[1:], "true")...).CombinedOutput(); err != nil {
		t.Skipf("cannot isolate chromium in a network namespace (%v: %s)", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := append(isolate[1:], chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0")
	argv = append(argv, args...)
	argv = append(argv, "file://"+page)
	cmd := exec.CommandContext(ctx, isolate[0], argv...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, e.String())
	}
	return o.String(), e.String()
}

// consoleErrors finds the page's console messages and load failures in
// Chromium's log. The page has no script, so any console message from it
// is unexpected. Messages from Chromium's own internal pages (source
// chrome://…, seen under load: "Slow network is detected … roboto") are
// not the page's.
func consoleErrors(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if !consoleLine.MatchString(l) || internalSource.MatchString(l) {
			continue
		}
		out = append(out, l)
	}
	return out
}

var (
	consoleLine    = regexp.MustCompile(`CONSOLE|Uncaught|Failed to load resource|net::ERR_`)
	internalSource = regexp.MustCompile(`source: (chrome|chrome-untrusted|devtools)://`)
)

// TestReportRendersInChromium renders a report page (synthetic records plus
// the hostile sample) in headless Chromium: it must produce a screenshot,
// log no console errors, and its rendered DOM must carry every section and
// the hostile names as text, not elements.
func TestReportRendersInChromium(t *testing.T) {
	a := New(nil)
	in := io.MultiReader(newSynthReader(50_000, 1), mustOpen(t, "testdata/sample.jsonl"))
	if _, err := a.ReadFrom(in); err != nil {
		t.Fatal(err)
	}
	s := a.Summary()
	s.Source = "synthetic.jsonl"
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	var b bytes.Buffer
	if err := s.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		_, stderr := chromium(t, page, "--screenshot="+shot, "--window-size=1200,1600")
		if m := consoleErrors(stderr); len(m) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(m, "\n"))
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatalf("no screenshot: %v\n%s", err, stderr)
		}
		defer f.Close()
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		if cfg.Width != 1200 || cfg.Height != 1600 {
			t.Errorf("screenshot %dx%d, want 1200x1600", cfg.Width, cfg.Height)
		}
		if *screenshot != "" {
			png, err := os.ReadFile(shot)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	t.Run("dom", func(t *testing.T) {
		dom, stderr := chromium(t, page, "--dump-dom")
		if m := consoleErrors(stderr); len(m) > 0 {
			t.Errorf("console errors:\n%s", strings.Join(m, "\n"))
		}
		for _, want := range []string{
			"<h1>smbsweep report</h1>",
			"<h2>Overview</h2>", "<h2>Status</h2>", "<h2>SMB1 exposure</h2>", "<h2>Dialects</h2>",
			"<h2>Signing</h2>", "<h2>Encryption ciphers</h2>", "<h2>OS builds</h2>", "<h2>Samba versions</h2>",
			"<h2>NetBIOS names</h2>", "<h2>Guest access</h2>", "<h2>Honeypots and SYN proxies</h2>",
			"<h2>Where: IPv4 /16s</h2>", "<h2>Malformed lines</h2>",
			"Samba &lt;script&gt;alert(",         // a hostile NativeLanMan, as text
			"&lt;img src=x onerror=alert(2)&gt;", // a hostile share name, as text
			"data:image/png;base64,",
		} {
			if !strings.Contains(dom, want) {
				t.Errorf("rendered DOM lacks %q", want)
			}
		}
		if strings.Contains(dom, "<script") || strings.Contains(dom, "<img src=\"x\"") {
			t.Error("rendered DOM has an element injected from a record")
		}
	})
}

// TestChromiumCatchesConsoleErrors makes sure the console check above can
// fail: a page with a script error must be caught.
func TestChromiumCatchesConsoleErrors(t *testing.T) {
	page := filepath.Join(t.TempDir(), "bad.html")
	if err := os.WriteFile(page, []byte(`<!DOCTYPE html><title>bad</title><script>noSuchFunction()</script>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr := chromium(t, page, "--dump-dom")
	if len(consoleErrors(stderr)) == 0 {
		t.Errorf("a script error was not caught in:\n%s", stderr)
	}
}

func mustOpen(t *testing.T, path string) io.Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestConsoleErrors(t *testing.T) {
	tests := []struct {
		name, log string
		want      int
	}{
		{"page script error", `[1:1:1128/060913.085430:INFO:CONSOLE:1] "Uncaught ReferenceError: nosuch is not defined", source: file:///tmp/bad.html (1)`, 1},
		{"chromium's own page", `[8324:8324:1128/065104.555561:INFO:CONSOLE:574] "Slow network is detected. Fallback font will be used while loading: chrome://resources/roboto/roboto-regular.woff2", source: chrome://resources/cr_components/composebox/composebox_input.js (574)`, 0},
		{"load failure", `[1:1:1128/060913.085430:ERROR:CONSOLE:0] "Failed to load resource: net::ERR_NAME_NOT_RESOLVED", source: https://cdn.example/x.css (0)`, 1},
		{"dbus noise", `[1:1:1128/060443.652841:ERROR:dbus/object_proxy.cc:572] Failed to call method: org.freedesktop.DBus.NameHasOwner`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := consoleErrors(tt.log); len(got) != tt.want {
				t.Errorf("consoleErrors found %d lines, want %d: %q", len(got), tt.want, got)
			}
		})
	}
}
