package main

import (
	"path/filepath"
	"testing"

	"github.com/walrus-kv/walrus/server/config"
)

// The example topology's files load and say what the README promises.
func TestExampleTopologyConfigsLoad(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "master-replicas")
	cases := []struct {
		file       string
		port       int
		persistent bool
		master     int
	}{
		{"master.conf", 6379, false, 0},
		{"replica1.conf", 63791, true, 6379},
		{"replica2.conf", 63792, true, 6379},
	}
	for _, c := range cases {
		cfg, err := config.Load(filepath.Join(dir, c.file), nil)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		host, port, _ := cfg.ReplicaOf()
		if cfg.Port != c.port || cfg.Persistent() != c.persistent || port != c.master || (c.master != 0 && host != "127.0.0.1") {
			t.Errorf("%s: port %d persistent %v replicaof %s:%d", c.file, cfg.Port, cfg.Persistent(), host, port)
		}
		if cfg.PidFile == "" {
			t.Errorf("%s: no pidfile (stop.sh needs it)", c.file)
		}
	}
}
