package main

// run: the scan flags (scan.go, flags.go) plus the pipeline's own →
// pipeline.Config, then pipeline.Run. The stages, back-pressure, checkpoint
// and status logic live in rawscan/pipeline; this file only wires flags,
// files, signals and the HTTP listener.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/smbsweep/smbsweep/blocklist"
	"github.com/smbsweep/smbsweep/rawscan"
	"github.com/smbsweep/smbsweep/rawscan/pipeline"
	"github.com/smbsweep/smbsweep/rawscan/target"
	"github.com/smbsweep/smbsweep/smbprobe"
)

// runFlags are the flags 'run' adds to those of 'scan'.
type runFlags struct {
	scanOnly             bool
	workers, queue       int
	holdDense            int
	denseProbes          int
	holdMax              time.Duration
	spillDir             string
	connect, read, host  time.Duration
	silentProbes         int
	silentTimeout        time.Duration
	noSMB1, shares       bool
	statusFile, metadata string
	contact              string
	checkpoint           string
	checkpointEvery      time.Duration
	resume               bool
	metricsAddr          string
	control              bool
	adaptive             bool
	shardFromEnv         string
	stopTimeout          time.Duration
	keepCaps             bool
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&r.scanOnly, "scan-only", false, "write the scan's open hosts without probing SMB")
	fs.IntVar(&r.workers, "workers", pipeline.DefaultWorkers, "most SMB probes in flight (started as needed; capped by the open-file limit, two sockets each)")
	fs.IntVar(&r.holdDense, "hold-dense", pipeline.DefaultHoldDense, "while still sending, a /24 with more hits than this and at least 8 times its share of the scan's hits (one machine answering for the subnet), has its further hits held until sending ends (-1: never hold)")
	fs.IntVar(&r.denseProbes, "dense-probes", pipeline.DefaultDenseProbes, "after sending, probe the held hosts of a /24 that answered at most this many at a time")
	fs.DurationVar(&r.holdMax, "hold-max", pipeline.DefaultHoldMax, "longest a held host waits for sending to end")
	fs.IntVar(&r.queue, "queue", pipeline.DefaultQueueSize, "hits held in memory before spilling to disk")
	fs.StringVar(&r.spillDir, "spill-dir", "", "directory of the spill file (default: $TMPDIR)")
	fs.DurationVar(&r.connect, "connect-timeout", 3*time.Second, "SMB probe: TCP connect timeout")
	fs.DurationVar(&r.read, "read-timeout", 5*time.Second, "SMB probe: timeout for each reply")
	fs.DurationVar(&r.host, "host-timeout", 10*time.Second, "SMB probe: hard deadline for one host")
	fs.IntVar(&r.silentProbes, "silent-probes", smbprobe.DefaultSilentProbes, "SMB probe: "+silentProbesUsage)
	fs.DurationVar(&r.silentTimeout, "silent-timeout", smbprobe.DefaultSilentTimeout, "SMB probe: "+silentTimeoutUsage)
	fs.BoolVar(&r.noSMB1, "no-smb1", false, "skip the SMB1 check (the second connection)")
	fs.BoolVar(&r.shares, "smb-shares", false, "log on as guest and list share names (off by default: it logs on to someone else's system)")
	fs.StringVar(&r.statusFile, "status-file", "", "append the status as a JSON line every second to this file")
	fs.StringVar(&r.metadata, "metadata", "", "write the run's summary (config, counts, blocklist hashes) as JSON to this file at the end")
	fs.StringVar(&r.contact, "contact", "", "how the targets' operators can reach you (e-mail or URL); shown in the banner and the metadata")
	fs.StringVar(&r.checkpoint, "checkpoint", "", "commit a checkpoint (permutation positions, output offset) to this file every few seconds")
	fs.DurationVar(&r.checkpointEvery, "checkpoint-interval", pipeline.DefaultCheckpointInterval, "time between checkpoints")
	fs.BoolVar(&r.resume, "resume", false, "continue the scan of --checkpoint, appending to -o and skipping hosts it has (same targets, ports and shards); without a checkpoint file, start from the beginning")
	fs.StringVar(&r.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address, e.g. 127.0.0.1:9445")
	fs.BoolVar(&r.control, "control", false, "also serve POST /rate, POST /reload and GET /status on --metrics-addr")
	fs.BoolVar(&r.adaptive, "adaptive", false, "lower the rate on receiver drops or a falling hit rate, recover up to -r")
	fs.StringVar(&r.shardFromEnv, "shard-from-env", "", "read --shard from this environment variable (e.g. JOB_COMPLETION_INDEX)")
	fs.DurationVar(&r.stopTimeout, "stop-timeout", pipeline.DefaultStopTimeout, "on SIGINT/SIGTERM, how long queued probes may still run after the cooldown")
	fs.BoolVar(&r.keepCaps, "keep-caps", false, "do not drop capabilities after opening the raw sockets")
}

// newRunFlagSet defines the flags of 'run': those of 'scan' (with the
// shared target flags) and rf's.
func newRunFlagSet(sf *scanFlags, rf *runFlags, stderr io.Writer) *flag.FlagSet {
	fs := newScanFlagSet(sf, stderr)
	fs.Init("smbsweep run", flag.ContinueOnError)
	rf.register(fs)
	return fs
}

// runRun is the 'run' subcommand.
func runRun(args []string, stdout, stderr io.Writer) int {
	sf := &scanFlags{set: map[string]bool{}}
	rf := &runFlags{}
	fs := newRunFlagSet(sf, rf, stderr)
	targets, err := parseInterleaved(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fmt.Fprintf(stdout, `Usage: smbsweep run [flags] TARGET…

Scans TARGETs (IPv4 addresses, prefixes, ranges; the whole internet is
0.0.0.0/0) and probes every open host for SMB facts as the SYN-ACKs arrive,
writing one JSON line (or CSV row) per host to stdout or -o FILE.
SIGINT/SIGTERM stop gracefully (a second one aborts), SIGHUP reloads the -b
opt-out files, SIGUSR1/SIGUSR2 raise/lower the rate by 10%%.

Flags:
`)
		fs.PrintDefaults()
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "Run 'smbsweep run -h' for the flags.\n")
		return exitUsage
	}
	fs.Visit(func(fl *flag.Flag) { sf.set[fl.Name] = true })
	err = runPipeline(sf, rf, targets, fs, stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case isUsage(err):
		fmt.Fprintf(stderr, "smbsweep run: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "smbsweep run: %v\n", err)
		return exitFailure
	}
}

// resumeState loads --checkpoint for --resume and makes the target flags
// agree with it.
func resumeState(sf *scanFlags, rf *runFlags) (*pipeline.Checkpoint, error) {
	if !rf.resume {
		return nil, nil
	}
	if rf.checkpoint == "" {
		return nil, usagef("--resume needs --checkpoint FILE")
	}
	if sf.output == "-" {
		return nil, usagef("--resume needs -o FILE: the output to continue")
	}
	if _, err := os.Stat(rf.checkpoint); errors.Is(err, os.ErrNotExist) {
		// Nothing to resume (a first start under a restarting
		// scheduler): start from the beginning, skipping hosts the
		// output may already have.
		return nil, nil
	}
	ck, err := pipeline.LoadCheckpoint(rf.checkpoint)
	if err != nil {
		return nil, err
	}
	seed := strconv.FormatUint(ck.State.Seed, 10)
	if sf.targets.seed != "" && sf.targets.seed != seed {
		return nil, usagef("--seed %s differs from the checkpoint's %s", sf.targets.seed, seed)
	}
	sf.targets.seed = seed
	return ck, nil
}

func runPipeline(sf *scanFlags, rf *runFlags, targets []string, fs *flag.FlagSet, stdout, stderr io.Writer) error {
	if sf.dryRun || sf.all {
		return usagef("--dry-run and --all are 'scan' flags; 'run' writes open hosts only")
	}
	if rf.shardFromEnv != "" {
		v := os.Getenv(rf.shardFromEnv)
		n, err := strconv.Atoi(v)
		if err != nil {
			return usagef("--shard-from-env %s: %q is not a shard index", rf.shardFromEnv, v)
		}
		sf.targets.shard = n
	}
	ck, err := resumeState(sf, rf)
	if err != nil {
		return err
	}
	format, err := pipeline.ParseFormat(sf.format)
	if err != nil {
		return usagef("%v", err)
	}
	plan, err := planScan(sf, targets)
	if err != nil {
		return err
	}
	if ck != nil {
		if plan.perm, err = target.Resume(&plan.tp.Config, ck.Rewound()); err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
	}
	logf := func(format string, args ...any) {
		if !sf.quiet {
			fmt.Fprintf(stderr, "smbsweep run: "+format+"\n", args...)
		}
	}

	// Output first: a refusal here must not wait for the banner.
	out, seen, err := openRunOutput(sf.output, ck, rf.resume, stdout)
	if err != nil {
		return err
	}
	if out != stdout {
		defer out.(*os.File).Close()
	}
	o, err := pipeline.NewOutput(out, format)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if up, down := rawscan.RateSignals(); up != nil {
		signal.Notify(sigs, up, down)
	}
	defer signal.Stop(sigs)

	if err := rawscan.CheckCapabilities(rawscan.CapNetRaw); err != nil {
		return err
	}
	plan.route.Logf = logf
	rt, err := rawscan.FindRoute(ctx, &plan.route)
	if err != nil {
		return err
	}
	if err := banner(ctx, plan, rf, rt, sf.yes, sigs, stderr); err != nil {
		return err
	}

	// Open every socket, then drop the capabilities: nothing after this
	// point needs privileges (the prober uses kernel TCP sockets).
	afc := &rawscan.AFPacketConfig{Interface: rt.Interface, QdiscBypass: sf.bypass}
	rx, err := rawscan.OpenRx(afc, rawscan.ReplyFilter(rt.Source, plan.sports))
	if err != nil {
		return err
	}
	txs := make([]rawscan.TxConn, 0, plan.perm.Threads())
	// Until the pipeline owns them (rawscan.Scanner.Run closes them),
	// an error closes the connections.
	owned := false
	defer func() {
		if !owned {
			rx.Close()
			for _, t := range txs {
				t.Close()
			}
		}
	}()
	for range plan.perm.Threads() {
		var tx rawscan.TxConn
		if sf.tx == "ring" {
			tx, err = rawscan.OpenTxRing(afc)
		} else {
			tx, err = rawscan.OpenTx(afc)
		}
		if err != nil {
			return err
		}
		txs = append(txs, tx)
	}
	var ln net.Listener
	if rf.metricsAddr != "" {
		if ln, err = net.Listen("tcp", rf.metricsAddr); err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		defer ln.Close()
	}
	if !rf.keepCaps {
		if err := pipeline.DropCapabilities(); errors.Is(err, pipeline.ErrCapsCgo) {
			logf("warning: %v; capabilities kept", err)
		} else if err != nil {
			return err
		}
	}

	scfg := plan.config(rt)
	scfg.Rx = rx
	scfg.Tx = func(i int) (rawscan.TxConn, error) { return txs[i], nil }
	var prober *smbprobe.Prober
	if !rf.scanOnly {
		prober = smbprobe.New(&smbprobe.Config{
			ConnectTimeout: rf.connect, ReadTimeout: rf.read, HostTimeout: rf.host,
			SilentProbes: silentProbes(rf.silentProbes), SilentTimeout: rf.silentTimeout,
			SkipSMB1: rf.noSMB1, Shares: rf.shares,
		})
	}
	var statusFile *os.File
	if rf.statusFile != "" {
		if statusFile, err = os.OpenFile(rf.statusFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
			return err
		}
		defer statusFile.Close()
	}
	pcfg := &pipeline.Config{
		Scan:               *scfg,
		Permutation:        plan.perm,
		Prober:             prober,
		Workers:            rf.workers,
		HoldDense:          rf.holdDense,
		HoldMax:            rf.holdMax,
		DenseProbes:        rf.denseProbes,
		QueueSize:          rf.queue,
		SpillDir:           rf.spillDir,
		Output:             o,
		Seen:               seen,
		CheckpointPath:     rf.checkpoint,
		CheckpointInterval: rf.checkpointEvery,
		StopTimeout:        rf.stopTimeout,
		OnStatus: func(st *pipeline.Status) {
			if !sf.quiet {
				fmt.Fprintln(stderr, st.Line())
			}
			if statusFile != nil {
				b, _ := json.Marshal(st)
				statusFile.Write(append(b, '\n'))
			}
		},
		Logf: logf,
	}
	if rf.adaptive {
		pcfg.Adaptive = &pipeline.AdaptiveConfig{}
	}
	p, err := pipeline.New(pcfg)
	if err != nil {
		return err
	}
	owned = true
	meta := metadata(plan, rf, rt, targets, fs, ck != nil)
	if plan.tp.OptOut != nil {
		go plan.tp.OptOut.Run(ctx)
	}
	if ln != nil {
		var ctl *pipeline.Control
		if rf.control {
			ctl = &pipeline.Control{}
			if plan.tp.OptOut != nil {
				ctl.Reload = plan.tp.OptOut.Reload
			}
		}
		srv := &http.Server{Handler: pipeline.Handler(p, ctl), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		logf("metrics on http://%s/metrics", ln.Addr())
	}
	var steer sync.WaitGroup
	steerDone := make(chan struct{})
	steer.Go(func() { steerSignals(p, plan, sigs, steerDone, cancel, logf) })

	st, runErr := p.Run(ctx)
	close(steerDone)
	steer.Wait()
	meta.Finish(st, runErr)
	if rf.metadata != "" {
		if err := meta.Write(rf.metadata); err != nil {
			return errors.Join(runErr, err)
		}
	}
	logf("done: %d targets, %d hits, %d SMB results (%d success), %d written, %d abandoned, %d kernel drops",
		st.Scan.Targets, st.Hits, st.Probed, st.ByStatus[string(smbprobe.StatusSuccess)], st.Written, st.Abandoned, st.Scan.Drops)
	if runErr != nil && errors.Is(runErr, context.Canceled) {
		return fmt.Errorf("aborted by a second signal; %d hits abandoned (a --resume from the checkpoint probes them)", st.Abandoned)
	}
	return runErr
}

// openRunOutput opens -o: stdout for "-"; a new file, refusing to
// overwrite a non-empty one; or, on --resume, the existing file for
// appending, with the hosts it already has (which must include everything
// the checkpoint ck counted, if there is one).
func openRunOutput(path string, ck *pipeline.Checkpoint, resume bool, stdout io.Writer) (io.Writer, *pipeline.Seen, error) {
	if path == "-" {
		return stdout, nil, nil
	}
	if ck == nil && !resume {
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			return nil, nil, usagef("-o %s exists and is not empty: pass --resume to continue it, or remove it", path)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
		return f, nil, err
	}
	seen, size, err := pipeline.LoadSeen(path)
	if err != nil {
		return nil, nil, err
	}
	if ck != nil && size < ck.OutputOffset {
		return nil, nil, fmt.Errorf("-o %s has %d bytes but the checkpoint recorded %d: records were lost; resume refused", path, size, ck.OutputOffset)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	return f, seen, err
}

// banner states scope, rate and contact, then waits 5 s unless --yes.
func banner(ctx context.Context, plan *scanPlan, rf *runFlags, rt *rawscan.Route, yes bool, sigs <-chan os.Signal, stderr io.Writer) error {
	c := &plan.tp.Config
	contact := rf.contact
	if contact == "" {
		contact = "(none: set --contact so network operators can reach you)"
	}
	mode := "scan + SMB probe"
	if rf.scanOnly {
		mode = "scan only"
	}
	fmt.Fprintf(stderr, "smbsweep run: %s of %d targets (%d addresses × ports %v; %d reserved and %d opted-out addresses excluded), shard %d of %d, seed %d\n",
		mode, plan.perm.Count(), c.Allowed.Count(), c.Ports, plan.tp.Reserved, plan.tp.Blocked, c.Shard, c.Shards, c.Seed)
	fmt.Fprintf(stderr, "smbsweep run: from %v on %s via %v (%s), rate %s, contact %s\n",
		rt.Source, rt.Interface, rt.GatewayMAC, rt.GatewayFrom, rateString(plan.rate), contact)
	if yes {
		return nil
	}
	fmt.Fprintf(stderr, "smbsweep run: starting in 5 s; Ctrl-C aborts (--yes skips this pause)\n")
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return nil
		case s := <-sigs:
			if s == os.Interrupt || s == syscall.SIGTERM {
				return fmt.Errorf("aborted before sending (%v)", s)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// steerSignals applies signals while the pipeline runs: SIGINT/SIGTERM
// stop gracefully, a second one aborts; SIGUSR1/SIGUSR2 scale the rate by
// 1.1 and 1/1.1; SIGHUP is the opt-out Watcher's (it has its own
// handler), logged here.
func steerSignals(p *pipeline.Pipeline, plan *scanPlan, sigs <-chan os.Signal, done <-chan struct{}, abort func(), logf func(string, ...any)) {
	for {
		select {
		case <-done:
			return
		case s := <-sigs:
			up, down := rawscan.RateSignals()
			switch s {
			case os.Interrupt, syscall.SIGTERM:
				if p.Stopped() {
					logf("%v again: aborting", s)
					abort()
					continue
				}
				logf("%v: stopping (sending ends, cooldown, queued probes finish); again to abort", s)
				p.Stop()
			case up:
				p.Scanner().Rate().Scale(1.1)
				logf("%v: rate now %s", s, rateString(p.Scanner().Rate().Get()))
			case down:
				p.Scanner().Rate().Scale(1 / 1.1)
				logf("%v: rate now %s", s, rateString(p.Scanner().Rate().Get()))
			case syscall.SIGHUP:
				if plan.tp.OptOut == nil {
					logf("SIGHUP: no -b opt-out files to reload")
				} else {
					logf("SIGHUP: reloading the -b opt-out files")
				}
			}
		}
	}
}

// metadata fills in the configuration part of the run's metadata.
func metadata(plan *scanPlan, rf *runFlags, rt *rawscan.Route, targets []string, fs *flag.FlagSet, resumed bool) *pipeline.Metadata {
	c := &plan.tp.Config
	m := &pipeline.Metadata{
		Tool: "smbsweep", Version: version, Contact: rf.contact,
		Config:  map[string]string{},
		Targets: targets, Ports: c.Ports,
		Seed: c.Seed, Generator: plan.perm.Generator(), Prime: plan.perm.Prime(),
		Shards: c.Shards, Shard: c.Shard, Threads: plan.perm.Threads(),
		Interface: rt.Interface, SourceIP: rt.Source.String(),
		SourceMAC: rt.SourceMAC.String(), GatewayMAC: rt.GatewayMAC.String(),
		Rate: plan.rate, Cooldown: (time.Duration(plan.f.cooldown * float64(time.Second))).String(),
		Resumed: resumed, Start: time.Now().UTC(),
	}
	fs.Visit(func(fl *flag.Flag) { m.Config[fl.Name] = fl.Value.String() })
	files := append(append([]string(nil), plan.f.targets.blocklists...), plan.f.targets.allowlists...)
	for _, path := range files {
		h, err := pipeline.HashFile(path)
		if err != nil {
			h = pipeline.FileHash{Path: path, SHA256: "error: " + err.Error()}
		}
		m.Blocklists = append(m.Blocklists, h)
	}
	if !plan.f.targets.allowReserved {
		m.Blocklists = append(m.Blocklists, pipeline.FileHash{Path: "builtin:reserved.conf", SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(blocklist.ReservedConf())))})
	}
	return m
}
