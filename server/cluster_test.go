package server

import (
	"strings"
	"testing"
)

// TestClusterDisabled: the cluster commands answer as a Redis without
// cluster-enabled, and MODULE as one without modules, against both
// servers.
func TestClusterDisabled(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		for _, tc := range []struct {
			want string
			args []string
		}{
			{"-ERR This instance has cluster support disabled", []string{"CLUSTER", "INFO"}},
			{"-ERR This instance has cluster support disabled", []string{"CLUSTER", "SLOTS"}},
			{"-ERR This instance has cluster support disabled", []string{"cluster", "keyslot", "foo"}},
			{"-ERR This instance has cluster support disabled", []string{"CLUSTER", "HELP"}},
			{"-ERR unknown subcommand 'nosuch'. Try CLUSTER HELP.", []string{"CLUSTER", "nosuch"}},
			{"-ERR wrong number of arguments for 'cluster|keyslot' command", []string{"CLUSTER", "KEYSLOT"}},
			{"-ERR wrong number of arguments for 'cluster' command", []string{"CLUSTER"}},
			{"-ERR This instance has cluster support disabled", []string{"READONLY"}},
			{"-ERR This instance has cluster support disabled", []string{"READWRITE"}},
			{"-ERR This instance has cluster support disabled", []string{"ASKING"}},
			{"-ERR wrong number of arguments for 'readonly' command", []string{"READONLY", "x"}},
			{"[]", []string{"MODULE", "LIST"}},
			{"-ERR wrong number of arguments for 'module|list' command", []string{"MODULE", "LIST", "x"}},
			{"-ERR unknown subcommand 'nosuch'. Try MODULE HELP.", []string{"MODULE", "nosuch"}},
			{`-ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`, []string{"MODULE", "LOAD", "/nonexistent.so"}},
		} {
			c.expect(tc.want, tc.args...)
		}
	})
}

// TestInfoSections: INFO's default sections, in Redis's order,
// with the Modules and Cluster sections clients probe, against both.
func TestInfoSections(t *testing.T) {
	againstBoth(t, func(t *testing.T, addr string) {
		c := dialRaw(t, addr)
		var titles []string
		for _, line := range strings.Split(strings.TrimPrefix(c.do("INFO"), "$"), "\r\n") {
			if strings.HasPrefix(line, "# ") {
				titles = append(titles, line[2:])
			}
		}
		if got := strings.Join(titles, ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Errorstats,Cluster,Keyspace" {
			t.Errorf("INFO sections: %s", got)
		}
		if got := c.do("INFO", "cluster"); got != "$# Cluster\r\ncluster_enabled:0\r\n" {
			t.Errorf("INFO cluster = %q", got)
		}
		for _, field := range []string{"pubsubshard_channels:0", "total_system_memory:", "rdb_last_load_keys_loaded:"} {
			if !strings.Contains(c.do("INFO", "everything"), field) {
				t.Errorf("INFO everything has no %s", field)
			}
		}
	})
}
