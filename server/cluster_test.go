package server

import "testing"

// TestClusterDisabled: the cluster commands answer as a Redis without
// cluster-enabled, against both servers.
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
		} {
			c.expect(tc.want, tc.args...)
		}
	})
}
