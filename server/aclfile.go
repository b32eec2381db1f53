package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/walrus-kv/walrus/server/config"
)

// Users that outlive a restart, as in Redis 7.0: `user` lines of the
// configuration, or an aclfile that ACL LOAD reads and ACL SAVE writes
// (never both). The rules go through applyRule, the parser of ACL
// SETUSER, and a file holds ACL LIST's lines.

// errNoACLFile is ACL LOAD and SAVE's reply without an aclfile.
const errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."

// errACLSave is ACL SAVE's reply when the file cannot be written; the
// cause goes to the log.
const errACLSave = "ERR There was an error trying to save the ACLs. Please check the server logs for more information"

// aclLoadFailed ends ACL LOAD's error text when a line is bad.
const aclLoadFailed = "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"

// loadUsers creates the users of the configuration at start-up: the
// `user` lines, then the aclfile's users, which replace every user.
func (s *Server) loadUsers() error {
	if s.cfg.ACLFile != "" && len(s.cfg.Users) > 0 {
		return config.ErrUsersAndACLFile
	}
	for _, d := range s.cfg.Users {
		if hasSpace(d.Name) {
			return d.Fail(errors.New("Spaces not allowed in ACL usernames"))
		}
		rule, msg := s.acl.declare(d.Name, d.Rules)
		switch {
		case msg == errACLUnknown:
			return d.Fail(fmt.Errorf("Error loading ACL rule '%s' for the user named '%s': %s", rule, d.Name, msg))
		case msg != "":
			return d.Fail(fmt.Errorf("Error in user declaration '%s': %s", rule, msg))
		}
		if !s.acl.user(d.Name).perm.Load().on {
			s.log.Info("a user of the configuration is disabled (its line has no 'on' rule): make sure this is not a configuration error", "user", d.Name)
		}
	}
	if s.cfg.ACLFile != "" {
		if _, msg := s.loadACLFile(); msg != "" {
			return errors.New("aborting start-up because of ACL errors: " + msg)
		}
	}
	s.cfg.SetUserLister(s.acl.list)
	return nil
}

// loadACLFile replaces every user with the aclfile's, when all its lines
// are good; otherwise it changes nothing. It returns the users replaced
// (all but default, whose settings are replaced in place), or Redis's
// error text.
func (s *Server) loadACLFile() ([]*aclUser, string) {
	path := s.cfg.ACLFile
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Sprintf("Error loading ACLs, opening file '%s': %s", path, strerror(err))
	}
	users, errs := s.acl.parseUsers(path, data)
	if errs != "" {
		return nil, errs + aclLoadFailed
	}
	return s.acl.replaceUsers(users), ""
}

// saveACLFile writes every user's ACL LIST line to the aclfile,
// atomically (temporary file, fsync, rename).
func (s *Server) saveACLFile() error {
	var b strings.Builder
	for _, u := range s.acl.sortedUsers() {
		b.WriteString(u.describe())
		b.WriteByte('\n')
	}
	return config.ReplaceFile(s.cfg.ACLFile, []byte(b.String()))
}

// strerror is err's cause the way C's strerror words it ("No such file
// or directory").
func strerror(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	msg := err.Error()
	r, n := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[n:]
}

// hasSpace reports whether a user name or a pattern holds white space or
// a NUL, which ACL LIST's space-separated lines cannot carry (Redis's
// ACLStringHasSpaces).
func hasSpace(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r == 0 || r == ' ' || r == '\t' || r == '\n' || r == '\v' || r == '\f' || r == '\r'
	})
}

// declare applies a `user` line at start-up: the user is created, or for
// default reset, then given rules. It returns the first bad rule and why.
func (t *aclTable) declare(name string, rules []string) (string, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var p *aclPerm
	if name == "default" {
		p = t.def.perm.Load().clone()
		t.applyRule(p, "reset")
	} else {
		p = t.newPerm()
	}
	for _, r := range rules {
		if msg := t.applyRule(p, r); msg != "" {
			return r, msg
		}
	}
	u := t.users[name]
	if u == nil {
		u = &aclUser{name: name}
		t.users[name] = u
	}
	u.perm.Store(p)
	return "", ""
}

// parseUsers reads an ACL file as Redis 7.0's ACL LOAD does: one `user
// <name> [rule ...]` a line, words separated by single spaces (an empty
// word is no rule), blank lines skipped, no comments. It returns the
// users' settings by name, and Redis's text for every bad line ("" when
// there is none). A bad rule's text is not repeated (it may be a
// password), except an unknown command or category.
func (t *aclTable) parseUsers(file string, data []byte) (map[string]*aclPerm, string) {
	users := map[string]*aclPerm{}
	var errs strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", file, n)
			continue
		}
		name := argv[1]
		if hasSpace(name) {
			fmt.Fprintf(&errs, "%s:%d: username '%s' contains invalid characters. ", file, n, name)
			continue
		}
		if users[name] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, n)
			continue
		}
		p := t.newPerm()
		users[name] = p
		reported := false
		for _, r := range argv[2:] {
			r = strings.Trim(r, "\t\r\n")
			msg := t.applyRule(p, r)
			switch {
			case msg == errACLUnknown:
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", file, n, r, msg)
			case msg != "" && !reported:
				fmt.Fprintf(&errs, "%s:%d: %s. ", file, n, msg)
				reported = true
			}
		}
	}
	return users, errs.String()
}

// replaceUsers makes users the only users. A file without default gives
// the default user of a server without requirepass (on, nopass, every
// command, key and channel), as Redis does. It returns the users replaced:
// every one but default, since, as in Redis 7.0, a user loaded again is a
// new user and the old one's connections are closed (killUsers); their
// perm becomes empty at once.
func (t *aclTable) replaceUsers(users map[string]*aclPerm) []*aclUser {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []*aclUser
	for _, u := range t.users {
		if u != t.def {
			u.perm.Store(t.newPerm())
			gone = append(gone, u)
		}
	}
	next := make(map[string]*aclUser, len(users)+1)
	for name, p := range users {
		if name == "default" {
			continue
		}
		u := &aclUser{name: name}
		u.perm.Store(p)
		next[name] = u
	}
	def := users["default"]
	if def == nil {
		def = t.defaultPerm()
	}
	t.def.perm.Store(def)
	next["default"] = t.def
	t.users = next
	return gone
}

// list gives CONFIG REWRITE the users as `user` lines: names and rules as
// ACL LIST shows them.
func (t *aclTable) list() []config.UserDirective {
	users := t.sortedUsers()
	out := make([]config.UserDirective, len(users))
	for i, u := range users {
		words := strings.Split(u.describe(), " ") // "user" name rule...
		out[i] = config.UserDirective{Name: u.name, Rules: words[2:]}
	}
	return out
}
