package server

// Commands of Redis 7.0 that walrus does not have (COMMAND LIST of
// redis-server 7.0.15 less walrus's table), with the subcommands of those
// that are containers. ACL rules may name them, as in a users file
// written for Redis: a rule on one of them changes no bit (there is
// nothing to run) but stays in the user's rules, so ACL LIST, ACL SAVE and
// CONFIG REWRITE give back what was set. TestRedisOnlyCommandsAreRedisLessWalrus
// keeps the list honest.
var redisOnlyCommands = map[string][]string{
	"pfdebug": nil, "pfselftest": nil,
}
