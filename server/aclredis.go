package server

// Commands of Redis 7.0 that walrus does not have (COMMAND LIST of
// redis-server 7.0.15 less walrus's table), with the subcommands of those
// that are containers. ACL rules may name them, as in a users file
// written for Redis: a rule on one of them changes no bit (there is
// nothing to run) but stays in the user's rules, so ACL LIST, ACL SAVE and
// CONFIG REWRITE give back what was set. TestRedisOnlyCommandsAreRedisLessWalrus
// keeps the list honest.
var redisOnlyCommands = map[string][]string{
	"asking": nil, "bgrewriteaof": nil,
	"lolwut": nil,
	"pfdebug": nil, "pfselftest": nil, "readonly": nil,
	"readwrite": nil, "restore-asking": nil,
	"spublish": nil, "ssubscribe": nil, "sunsubscribe": nil,
	"sync": nil,
	"cluster": {
		"addslots", "addslotsrange", "bumpepoch", "count-failure-reports",
		"countkeysinslot", "delslots", "delslotsrange", "failover", "flushslots",
		"forget", "getkeysinslot", "help", "info", "keyslot", "links", "meet",
		"myid", "nodes", "replicas", "replicate", "reset", "saveconfig",
		"set-config-epoch", "setslot", "shards", "slaves", "slots",
	},
	"module": {"help", "list", "load", "loadex", "unload"},
}
