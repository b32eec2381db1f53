package config

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// sameUsers compares names and rules, not where the lines were.
func sameUsers(a, b []UserDirective) bool {
	return slices.EqualFunc(a, b, func(x, y UserDirective) bool {
		return x.Name == y.Name && slices.Equal(x.Rules, y.Rules)
	})
}

func TestUserLinesAccumulateWithTheirLocation(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "users.conf", "user carol on nopass\n")
	path := writeFile(t, dir, "walrus.conf", strings.Join([]string{
		"port 7000",
		`user alice on >pw ~app:* "%R~shared:*" +@all`,
		"include users.conf",
		"user bob",
		"",
	}, "\n"))
	c, err := Load(path, []string{"--user", "dave", "on", ">a b"})
	if err != nil {
		t.Fatal(err)
	}
	want := []UserDirective{
		{Name: "alice", Rules: []string{"on", ">pw", "~app:*", "%R~shared:*", "+@all"}},
		{Name: "carol", Rules: []string{"on", "nopass"}},
		{Name: "bob", Rules: []string{}},
		{Name: "dave", Rules: []string{"on", ">a b"}},
	}
	if !sameUsers(c.Users, want) {
		t.Fatalf("Users = %+v\nwant %+v", c.Users, want)
	}
	at := func(u UserDirective) string { return u.Fail(errors.New("bad")).Error() }
	for i, w := range []string{
		`config file ` + path + `, line 2: 'user alice on >pw ~app:* "%R~shared:*" +@all': bad`,
		`config file ` + dir + `/users.conf, line 1: 'user carol on nopass': bad`,
		`config file ` + path + `, line 4: 'user bob': bad`,
		`command line: 'user dave on ">a b"': bad`,
	} {
		if got := at(c.Users[i]); got != w {
			t.Errorf("user %d located as\n  %s\nwant\n  %s", i, got, w)
		}
	}
	if got := c.Get("user"); got != nil {
		t.Errorf("CONFIG GET user = %q, want nothing (as Redis)", got)
	}
	if len(Default().Users) != 0 {
		t.Error("users by default")
	}
}

func TestUserLineErrorsMatchRedis(t *testing.T) {
	tests := []struct{ text, want string }{
		{"user", `config file walrus.conf, line 1: 'user': Bad directive or wrong number of arguments`},
		{"user alice on\n# x\nuser alice off", `config file walrus.conf, line 3: 'user alice off': Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files`},
		{"user alice on\naclfile /etc/users.acl", `config file walrus.conf, line 2: 'aclfile /etc/users.acl': ` + ErrUsersAndACLFile.Error()},
		{"aclfile /etc/users.acl\nuser alice on", `config file walrus.conf, line 1: 'aclfile /etc/users.acl': ` + ErrUsersAndACLFile.Error()},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.text), "walrus.conf")
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) error =\n  %v\nwant\n  %s", tt.text, err, tt.want)
		}
	}
	// aclfile on the command line, users in the file.
	path := writeFile(t, t.TempDir(), "walrus.conf", "user alice on\n")
	_, err := Load(path, []string{"--aclfile", "users.acl"})
	if !errors.Is(err, ErrUsersAndACLFile) || !strings.HasPrefix(err.Error(), "command line: 'aclfile users.acl': Configuring Redis with users") {
		t.Fatalf("user lines and --aclfile: %v", err)
	}
	c := parse(t, "aclfile /var/lib/walrus/users.acl")
	if c.ACLFile != "/var/lib/walrus/users.acl" || len(c.Users) != 0 {
		t.Fatalf("aclfile = %q, users %v", c.ACLFile, c.Users)
	}
}

func TestRewriteWritesTheCurrentUsers(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "inc.conf", "user carol on\n")
	path := writeFile(t, dir, "walrus.conf", strings.Join([]string{
		"port 7000",
		"user alice on >pw",
		"# bob goes",
		"user bob on",
		"include inc.conf",
		"",
	}, "\n"))
	c, err := Load(path, []string{"--user", "dave", "on"})
	if err != nil {
		t.Fatal(err)
	}
	// Without a lister Rewrite keeps the users Load read: those of the
	// main file, in place.
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "port 7000\nuser alice on >pw\n# bob goes\nuser bob on\ninclude inc.conf\n") {
		t.Fatalf("rewrite without a lister changed the users:\n%s", got)
	}
	// The server's users: alice changed, bob deleted, erin new; the
	// included and command-line ones are declared again from there.
	c.SetUserLister(func() []UserDirective {
		return []UserDirective{
			{Name: "alice", Rules: []string{"on", "#0123", "~a\"b", "-@all", "+get"}},
			{Name: "carol", Rules: []string{"off"}},
			{Name: "dave", Rules: []string{"off"}},
			{Name: "default", Rules: []string{"on", "nopass", "~*", "&*", "+@all"}},
			{Name: "erin", Rules: []string{"on", "resetchannels", "-@all"}},
		}
	})
	if err := c.Rewrite(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"port 7000",
		`user alice on #0123 "~a\"b" -@all +get`,
		"# bob goes",
		"user default on nopass ~* &* +@all",
		"include inc.conf",
		"",
		rewriteSignature,
		"user erin on resetchannels -@all",
		"",
	}, "\n")
	if string(got) != want {
		t.Fatalf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	again, err := Load(path, []string{"--user", "dave", "on"})
	if err != nil {
		t.Fatalf("the rewritten file does not load: %v", err)
	}
	if names := len(again.Users); names != 5 || again.Users[0].Name != "alice" || again.Users[0].Rules[2] != `~a"b` {
		t.Fatalf("reloaded users: %+v", again.Users)
	}

	// With an aclfile the users live there: rewrite drops user lines.
	acl := writeFile(t, dir, "acl.conf", "port 7001\naclfile users.acl\n")
	c2, err := Load(acl, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2.SetUserLister(func() []UserDirective { return []UserDirective{{Name: "default", Rules: []string{"on"}}} })
	if err := os.WriteFile(acl, []byte("port 7001\naclfile users.acl\nuser stray on\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c2.Rewrite(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(acl); string(got) != "port 7001\naclfile \"users.acl\"\n" {
		t.Fatalf("rewrite with an aclfile:\n%s", got)
	}
}
