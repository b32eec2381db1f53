// Package config turns redis.conf-style files and redis-server style
// command-line directives into a typed Config, and implements what CONFIG
// GET, CONFIG SET and CONFIG REWRITE need.
//
// walrus-server is started like redis-server:
//
//	walrus-server [walrus.conf] [--directive value ...]
//
// The file uses redis.conf syntax: one directive per line, # comments,
// arguments split like Redis's sdssplitargs ("double quotes" with \n \r \t
// \b \a \\ \" \xHH escapes, 'single quotes' with only \'), case-insensitive
// directive names, sizes with Redis units (1k = 1000, 1kb = 1024, m, mb, g,
// gb), yes/no booleans, and include (relative to the including file; loops
// are refused). Command-line directives are applied after the file, so
// they override it. A later line overrides an earlier one, except save,
// rename-command and user, which accumulate over one load (`save ""`
// clears; a user name may appear once).
//
// Everything derives from one table in directives.go: a row per directive
// with its name, aliases, default, flags (mutable by CONFIG SET, several
// arguments, file only) and a typed value that knows how to parse, show
// (CONFIG GET) and write (CONFIG REWRITE) it. Adding a directive is adding
// a row. Directives walrus does not act on but that a stock Redis 7.0
// redis.conf contains are accepted and kept for CONFIG GET, so such a file
// loads unchanged; ones walrus cannot honour (daemonize yes, unixsocket,
// cluster-enabled yes) are refused with an error naming the line.
//
// Invariants:
//   - a Config is complete and valid when Load returns it: every field holds
//     either its default or a value that passed the directive's checks;
//   - after Load, fields change only through Set and SetReplicaOf, under the
//     Config's lock (see Config for how readers stay safe);
//   - errors meant for clients (Set, Rewrite) carry Redis 7's exact text.
//
// The package does not open listeners, create directories or act on any
// value: the server reads the Config, and registers OnChange hooks for the
// directives it applies at runtime.
package config
