package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ErrBadDirective is Redis's answer to an unknown directive (and to a known
// one given the wrong number of arguments where Redis says the same).
var ErrBadDirective = errors.New("Bad directive or wrong number of arguments")

// maxIncludeDepth bounds include nesting; loops are caught before that.
const maxIncludeDepth = 16

// ParseError is a directive that could not be applied. Its text names where
// the directive came from, in the spirit of Redis's FATAL CONFIG FILE ERROR:
//
//	config file walrus.conf, line 3: 'port abc': argument couldn't be parsed into an integer
//	command line: 'port abc': argument couldn't be parsed into an integer
type ParseError struct {
	File string // config file as named to Load or include; "" for the command line
	Line int    // 1-based line in File; 0 for the command line
	Text string // the directive as written
	Err  error  // what is wrong (Redis's words); ErrBadDirective for unknown names
}

func (e *ParseError) Error() string {
	if e.File == "" {
		return fmt.Sprintf("command line: '%s': %v", e.Text, e.Err)
	}
	return fmt.Sprintf("config file %s, line %d: '%s': %v", e.File, e.Line, e.Text, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Load builds a Config the way redis-server does: defaults, then the file
// at path (skipped when path is ""), then args, the command-line directives
// (`--port 7000 --save "" --replicaof 127.0.0.1 6379`), which override the
// file. It stops at the first bad directive with a *ParseError.
func Load(path string, args []string) (*Config, error) {
	l := newLoader()
	if path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("config file %s: %w", path, err)
		}
		if err := l.file(path, abs, nil); err != nil {
			return nil, err
		}
		l.c.path = abs
	}
	lines, err := commandLine(args)
	if err != nil {
		return nil, err
	}
	for _, text := range lines {
		if err := l.line(text, "", 0, nil); err != nil {
			return nil, err
		}
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// FromCommandLine loads the configuration named by redis-server style
// arguments (without the program name): an optional config file first,
// then `--directive value...`.
func FromCommandLine(argv []string) (*Config, error) {
	if len(argv) > 0 && argv[0] == "-" {
		return nil, errors.New("reading the configuration from standard input is not supported: name a config file")
	}
	if len(argv) > 0 && !strings.HasPrefix(argv[0], "-") {
		return Load(argv[0], argv[1:])
	}
	return Load("", argv)
}

// Parse reads config-file text from r; name is used in errors and to
// resolve include paths. It is Load for tests and fuzzing.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", name, err)
	}
	l := newLoader()
	if err := l.text(data, name, filepath.Dir(name), nil); err != nil {
		return nil, err
	}
	if err := l.finish(); err != nil {
		return nil, err
	}
	return l.c, nil
}

// loader applies directives to a Config in order.
type loader struct {
	c *Config
	// seen holds the directives applied so far in this load, for the
	// accumulating ones (save, rename-command) that start over once.
	seen map[*directive]bool
	// origin is where each directive was last set, for check errors.
	origin map[*directive]*ParseError
	// readFile reads an included file and glob expands an include's
	// pattern; tests and fuzzing replace them.
	readFile func(path string) ([]byte, error)
	glob     func(pattern string) ([]string, error)
	// included counts the includes being read: lines read while it is
	// positive are not the main file's.
	included int
}

func newLoader() *loader {
	return &loader{
		c:        Default(),
		seen:     make(map[*directive]bool),
		origin:   make(map[*directive]*ParseError),
		readFile: os.ReadFile,
		glob:     filepath.Glob,
	}
}

// file reads the config file abs (shown as name) whose includers are stack.
func (l *loader) file(name, abs string, stack []string) error {
	data, err := l.readFile(abs)
	if err != nil {
		return fmt.Errorf("open config file %s: %w", name, err)
	}
	return l.text(data, name, filepath.Dir(abs), append(stack[:len(stack):len(stack)], abs))
}

// text applies every line of one file. dir resolves relative includes;
// stack holds the files being read, outermost first.
func (l *loader) text(data []byte, name, dir string, stack []string) error {
	for i, raw := range bytes.Split(data, []byte("\n")) {
		if err := l.line(string(raw), name, i+1, &includeCtx{dir: dir, stack: stack}); err != nil {
			return err
		}
	}
	return nil
}

type includeCtx struct {
	dir   string
	stack []string
}

// line applies one line. file is "" for the command line, where inc is nil
// and include is refused.
func (l *loader) line(raw, file string, n int, inc *includeCtx) error {
	text := strings.Trim(raw, " \t\r\n")
	if text == "" || text[0] == '#' {
		return nil
	}
	fail := func(err error) error { return &ParseError{File: file, Line: n, Text: text, Err: err} }
	args, err := SplitArgs(text)
	if err != nil {
		return fail(err)
	}
	if len(args) == 0 {
		return nil
	}
	if strings.EqualFold(args[0], "include") {
		if len(args) != 2 || inc == nil {
			return fail(ErrBadDirective)
		}
		return l.include(args[1], inc, fail)
	}
	d := lookup(args[0])
	if d == nil {
		return fail(ErrBadDirective)
	}
	vals := args[1:]
	if d.flags&multi != 0 && len(vals) == 1 && vals[0] != "" {
		if vals, err = SplitArgs(vals[0]); err != nil {
			return fail(err)
		}
	}
	if err := d.v.set(l.c, d, vals, !l.seen[d]); err != nil {
		return fail(err)
	}
	if d.name == "user" { // the server names the line when a rule is bad
		u := &l.c.Users[len(l.c.Users)-1]
		u.File, u.Line, u.Text = file, n, text
		u.elsewhere = inc == nil || l.included > 0
	}
	l.seen[d] = true
	l.origin[d] = &ParseError{File: file, Line: n, Text: text}
	return nil
}

// include reads every file matching pattern (a path or a glob), relative to
// the including file's directory, in name order.
func (l *loader) include(pattern string, inc *includeCtx, fail func(error) error) error {
	if !filepath.IsAbs(pattern) {
		pattern = filepath.Join(inc.dir, pattern)
	}
	paths := []string{pattern}
	if strings.ContainsAny(pattern, "*?[") {
		var err error
		if paths, err = l.glob(pattern); err != nil {
			return fail(fmt.Errorf("include %s: %w", pattern, err))
		}
	}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return fail(fmt.Errorf("include %s: %w", p, err))
		}
		for _, s := range inc.stack {
			if s == abs {
				return fail(fmt.Errorf("include loop: %s is already being read", p))
			}
		}
		if len(inc.stack) >= maxIncludeDepth {
			return fail(fmt.Errorf("includes nested deeper than %d files", maxIncludeDepth))
		}
		l.included++
		err = l.file(p, abs, inc.stack)
		l.included--
		if err != nil {
			return err
		}
	}
	return nil
}

// finish runs the directives' checks on the complete configuration.
func (l *loader) finish() error {
	for _, d := range directives {
		if d.check == nil {
			continue
		}
		if err := d.check(l.c); err != nil {
			if at := l.origin[d]; at != nil {
				return &ParseError{File: at.File, Line: at.Line, Text: at.Text, Err: err}
			}
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

// commandLine turns redis-server style arguments into config lines, as
// Redis does: each `--name` starts a line and the arguments after it are
// appended (quoted where needed) until the next `--name`. An argument that
// starts with "--" right after an option name is that option's value; a
// bare `--save` (last, or followed by another option) means `save ""`.
func commandLine(args []string) ([]string, error) {
	var lines []string
	var cur strings.Builder
	handled := true // the current option has at least one argument
	flush := func() {
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
		}
	}
	for j, a := range args {
		if handled && strings.HasPrefix(a, "--") {
			flush()
			name := a[2:]
			cur.WriteString(name)
			parts, err := SplitArgs(name)
			if err != nil {
				return nil, &ParseError{Text: name, Err: err}
			}
			handled = len(parts) > 1
			if len(parts) == 1 && strings.EqualFold(parts[0], "save") &&
				(j == len(args)-1 || strings.HasPrefix(args[j+1], "--")) {
				cur.WriteString(` ""`)
				handled = true
			}
			continue
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(quoteIfNeeded(a))
		handled = true
	}
	flush()
	return lines, nil
}
