package server

import (
	"strings"

	"github.com/walrus-kv/walrus/engine"
)

// walrus has no cluster mode. CLUSTER, READONLY, READWRITE and ASKING
// answer as a Redis started without cluster-enabled does, which is how
// clients and tools find out that a server is not a cluster node.

const errNoCluster = "ERR This instance has cluster support disabled"

func clusterCommands(row func(string, int, engine.Flags, string, string, func(*Server, *client, [][]byte)) *command) []*command {
	noCluster := func(_ *Server, cl *client, _ [][]byte) { cl.err(errNoCluster) }
	const conn = engine.Fast | engine.Loading | engine.Stale
	return []*command{
		row("cluster", -2, 0, "cluster", "A container for cluster commands", cmdCluster),
		row("readonly", 1, conn, "cluster", "Enables read queries for a connection to a cluster replica node", noCluster),
		row("readwrite", 1, conn, "cluster", "Disables read queries for a connection to a cluster replica node", noCluster),
		row("asking", 1, engine.Fast, "cluster", "Sent by cluster clients after an -ASK redirect", noCluster),
		row("module", -2, 0, "server", "A container for module commands", cmdModule),
	}
}

// MODULE <subcommand>: walrus loads no modules. LIST answers none, which
// is what clients and tools that look for modules ask; loading and
// unloading answer as Redis 7.0 does by default (enable-module-command
// no).
func cmdModule(_ *Server, cl *client, args [][]byte) {
	switch sub := strings.ToLower(string(args[1])); sub {
	case "list":
		cl.array(0)
	case "help":
		cl.statusLines([]string{
			"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"LIST",
			"    Return a list of loaded modules.",
			"LOAD <path> [<arg> ...]",
			"    Load a module library from <path>, passing to it any optional arguments.",
			"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
			"    Load a module library from <path>, while passing it module configurations and optional arguments.",
			"UNLOAD <name>",
			"    Unload a module.",
			"HELP",
			"    Prints this help.",
		})
	case "load", "loadex", "unload":
		cl.err(`ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`)
	default:
		cl.err("ERR unknown subcommand '" + string(args[1]) + "'. Try MODULE HELP.")
	}
}

// CLUSTER <subcommand>: every subcommand Redis has answers that cluster
// support is disabled; any other is unknown.
func cmdCluster(_ *Server, cl *client, args [][]byte) {
	sub := strings.ToLower(string(args[1]))
	if _, ok := redisContainers["cluster"].subs[sub]; !ok {
		cl.err("ERR unknown subcommand '" + string(args[1]) + "'. Try CLUSTER HELP.")
		return
	}
	cl.err(errNoCluster)
}
