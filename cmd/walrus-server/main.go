// Command walrus-server runs a walrus node. It takes the same arguments as
// redis-server: an optional redis.conf-style file, then --directive value
// pairs that override it.
//
//	walrus-server
//	walrus-server /etc/walrus/walrus.conf
//	walrus-server --port 7000 --save "" --replicaof 127.0.0.1 6379
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/walrus-kv/walrus/server"
	"github.com/walrus-kv/walrus/server/config"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(argv []string) int {
	if len(argv) == 1 && (argv[0] == "-v" || argv[0] == "--version") {
		fmt.Printf("walrus-server v=%s (Redis-compatible)\n", server.Version)
		return 0
	}
	if len(argv) == 1 && (argv[0] == "-h" || argv[0] == "--help") {
		fmt.Println("Usage: walrus-server [/path/to/walrus.conf] [--directive value ...]")
		fmt.Println("Examples:\n  walrus-server\n  walrus-server --port 7777\n  walrus-server --port 7777 --replicaof 127.0.0.1 8888\n  walrus-server /etc/walrus/6379.conf --loglevel verbose")
		return 0
	}
	if os.Getenv("GOGC") == "" {
		// walrus's large caches (Pebble's block cache, the row cache)
		// are off-heap; the heap is mostly short-lived request garbage
		// and Pebble's memtables: collect less often than Go's default.
		// GOGC overrides.
		debug.SetGCPercent(300)
	}
	cfg, err := config.FromCommandLine(argv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\n*** FATAL CONFIG FILE ERROR ***\n%v\n", err)
		return 1
	}
	logger, closeLog, err := newLogger(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Can't open the log file: %v\n", err)
		return 1
	}
	defer closeLog()
	slog.SetDefault(logger)

	if addr := os.Getenv("WALRUS_PPROF"); addr != "" {
		// Profiling for operators: WALRUS_PPROF=127.0.0.1:6060.
		go func() { logger.Info("pprof listening", "addr", addr, "err", http.ListenAndServe(addr, nil)) }()
	}
	srv, err := server.New(cfg, logger)
	if err != nil {
		logger.Error("start failed", "err", err)
		return 1
	}
	// SIGTERM and SIGINT shut down as SHUTDOWN does, with the options
	// shutdown-on-sigterm and shutdown-on-sigint give: after waiting for
	// the replicas (shutdown-timeout) unless "now", unless SHUTDOWN ABORT
	// cancels it or a second signal cuts the wait short. Once the stop
	// itself has begun, a signal ends the process at once, as a second
	// SIGINT ends Redis: the log is as durable as after a crash.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	go func() {
		for sig := range sigs {
			if srv.Stopping() {
				logger.Warn("You insist... exiting now.", "signal", sig.String())
				os.Exit(1)
			}
			srv.ShutdownSignal(sig == syscall.SIGTERM)
		}
	}()
	if err := srv.Serve(context.Background()); err != nil {
		logger.Error("stop failed", "err", err)
		return 1
	}
	return 0
}

// newLogger writes text logs to logfile (or stderr) at loglevel.
func newLogger(cfg *config.Config) (*slog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closer := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, err
		}
		w, closer = f, func() { f.Close() }
	}
	// CONFIG SET loglevel changes the level of the running server.
	level := new(slog.LevelVar)
	level.Set(logLevels[cfg.LogLevel])
	cfg.OnChange("loglevel", func(c *config.Config) error {
		c.RLock()
		defer c.RUnlock()
		level.Set(logLevels[c.LogLevel])
		return nil
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})), closer, nil
}

// logLevels maps Redis's loglevel values to slog's levels.
var logLevels = map[string]slog.Level{"debug": slog.LevelDebug, "verbose": slog.LevelDebug, "notice": slog.LevelInfo, "warning": slog.LevelWarn}
