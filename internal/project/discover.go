package project

// Finding the projects of a repository: every prefect.yaml under a
// directory (--recursive), or the files a glob matches. Both skip what git
// ignores (the repository's .gitignore files and .git/info/exclude, read
// with go-git's matcher), .git, directories whose name starts with a dot and
// Python virtual environments, whose installed packages carry prefect.yaml
// files of their own (Prefect's recipes).

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/prefectctl/prefectctl/internal/diag"
)

// IsGlob reports whether s is a pattern rather than a path.
func IsGlob(s string) bool { return strings.ContainsAny(s, "*?[") }

// FindProjects returns the prefect.yaml files under root, in lexical order
// of their paths, each as root joined with its path below root.
func FindProjects(root string) ([]string, error) {
	return walkProjects(root, []string{"**", DefaultFile})
}

// GlobProjects returns the files a pattern matches, in lexical order. The
// pattern is a path whose parts may use *, ? and [...] as in
// filepath.Match, and ** for any number of directories
// (services/**/prefect.yaml).
func GlobProjects(pattern string) ([]string, error) {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(pattern)), "/")
	for _, p := range parts {
		if _, err := path.Match(p, ""); err != nil {
			return nil, &diag.Error{Kind: diag.Usage, Msg: fmt.Sprintf("invalid pattern %q: %v", pattern, err), Hint: "use *, ? and [...] within a path part and ** for any number of directories"}
		}
	}
	// Walk from the longest leading part without pattern characters.
	i := 0
	for i < len(parts)-1 && !IsGlob(parts[i]) {
		i++
	}
	root := "."
	if i > 0 {
		root = strings.Join(parts[:i], "/")
		if root == "" { // an absolute pattern
			root = "/"
		}
	}
	return walkProjects(filepath.FromSlash(root), parts[i:])
}

// walkProjects walks root and returns the files whose path below root
// matches the pattern parts.
func walkProjects(root string, pattern []string) ([]string, error) {
	st, err := os.Stat(root)
	if err != nil || !st.IsDir() {
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, &diag.Error{Kind: diag.Usage, File: root, Msg: "cannot read the directory", Err: err, Hint: "check the path and its permissions"}
	}
	ig, err := newIgnorer(root)
	if err != nil {
		return nil, err
	}
	var found []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // an unreadable directory holds no project we can deploy
		}
		rel, _ := filepath.Rel(root, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if rel == "." {
			parts = nil
		}
		if d.IsDir() {
			if p != root {
				if skipDir(p, d.Name()) || ig.ignored(p, true) || !canDescend(pattern, parts) {
					return filepath.SkipDir
				}
			}
			ig.enter(p)
			return nil
		}
		if !matchParts(pattern, parts) || ig.ignored(p, false) {
			return nil
		}
		if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
			return nil // a dangling link or a device, not a file to read
		}
		found = append(found, p)
		return nil
	})
	if err != nil {
		return nil, &diag.Error{Kind: diag.Usage, File: root, Msg: "cannot read the directory", Err: err, Hint: "check the path and its permissions"}
	}
	return found, nil
}

// skipDir reports directories that never hold a project to deploy.
func skipDir(p, name string) bool {
	if strings.HasPrefix(name, ".") {
		return true // .git, .venv, .tox, .cache, ...
	}
	_, err := os.Stat(filepath.Join(p, "pyvenv.cfg"))
	return err == nil // a virtual environment under any name
}

// matchParts matches path parts against pattern parts, where ** stands
// for any number of parts.
func matchParts(pattern, parts []string) bool {
	if len(pattern) == 0 {
		return len(parts) == 0
	}
	if pattern[0] == "**" {
		for i := 0; i <= len(parts); i++ {
			if matchParts(pattern[1:], parts[i:]) {
				return true
			}
		}
		return false
	}
	if len(parts) == 0 {
		return false
	}
	ok, _ := path.Match(pattern[0], parts[0])
	return ok && matchParts(pattern[1:], parts[1:])
}

// canDescend reports whether a file below the directory with these parts
// may still match the pattern.
func canDescend(pattern, dir []string) bool {
	for i, part := range dir {
		if i < len(pattern) && pattern[i] == "**" {
			return true
		}
		if i >= len(pattern)-1 {
			return false // the last pattern part names the file
		}
		if ok, _ := path.Match(pattern[i], part); !ok {
			return false
		}
	}
	return true
}

// ignorer answers what git ignores below a walk's root: the patterns of
// .git/info/exclude and of every .gitignore from the repository's top down
// to each directory walked. Outside a repository the root's own .gitignore
// files still count, so a copy of the tree finds the same projects.
type ignorer struct {
	base     string // the directory patterns are relative to (absolute)
	patterns []gitignore.Pattern
}

func newIgnorer(root string) (*ignorer, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, &diag.Error{Kind: diag.Usage, File: root, Msg: "cannot resolve the directory", Err: err}
	}
	ig := &ignorer{base: abs}
	repo := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			repo = dir
			break
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if repo == "" {
		return ig, nil
	}
	ig.base = repo
	ig.read(filepath.Join(repo, ".git", "info", "exclude"), nil)
	// The .gitignore files above the root; the walk reads the root's own
	// and those below it.
	rel, _ := filepath.Rel(repo, abs)
	dir := repo
	var domain []string
	if rel != "." {
		for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
			ig.read(filepath.Join(dir, ".gitignore"), domain)
			dir = filepath.Join(dir, part)
			domain = append(domain, part)
		}
	}
	return ig, nil
}

// read adds the patterns of one ignore file, which apply below domain.
func (ig *ignorer) read(file string, domain []string) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		ig.patterns = append(ig.patterns, gitignore.ParsePattern(line, append([]string(nil), domain...)))
	}
}

// enter reads the .gitignore of a directory the walk goes into.
func (ig *ignorer) enter(dir string) {
	ig.read(filepath.Join(dir, ".gitignore"), ig.parts(dir))
}

func (ig *ignorer) parts(p string) []string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return nil
	}
	rel, err := filepath.Rel(ig.base, abs)
	if err != nil || rel == "." {
		return nil
	}
	return strings.Split(filepath.ToSlash(rel), "/")
}

func (ig *ignorer) ignored(p string, isDir bool) bool {
	if len(ig.patterns) == 0 {
		return false
	}
	return gitignore.NewMatcher(ig.patterns).Match(ig.parts(p), isDir)
}
