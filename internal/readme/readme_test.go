// Package readme checks that the README's Go snippets are the code of the
// Example functions they name, so that they compile with the tests and
// cannot rot.
package readme_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const root = "../.."

// snippet is a Go block of the README preceded by a line
// "<!-- snippet: path -->".
type snippet struct {
	file  string
	lines []string
}

var marker = regexp.MustCompile(`(?m)^<!-- snippet: (\S+) -->\n` + "```go\n" + `((?s:.*?))` + "```")

func snippets(t *testing.T) []snippet {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	var out []snippet
	for _, m := range marker.FindAllStringSubmatch(string(b), -1) {
		out = append(out, snippet{file: m[1], lines: strings.Split(m[2], "\n")})
	}
	return out
}

// TestSnippetsAreExamples: every line of a snippet is a line of its file,
// in order, and the file holds an Example.
func TestSnippetsAreExamples(t *testing.T) {
	sn := snippets(t)
	require.GreaterOrEqual(t, len(sn), 2, "the server and client snippets")
	for _, s := range sn {
		src, err := os.ReadFile(filepath.Join(root, s.file))
		require.NoError(t, err, s.file)
		assert.Contains(t, string(src), "\nfunc Example", "%s holds an Example", s.file)
		var file []string
		for _, l := range strings.Split(string(src), "\n") {
			file = append(file, strings.TrimSpace(l))
		}
		at := 0
		for _, l := range s.lines {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			found := false
			for ; at < len(file); at++ {
				if file[at] == l {
					found, at = true, at+1
					break
				}
			}
			if !assert.True(t, found, "%s: the README's line %q is not in the file (or not in this order)", s.file, l) {
				break
			}
		}
	}
}

// TestSnippetsNeedTwoProjectImports: a game server or client needs at most
// two of this module's packages.
func TestSnippetsNeedTwoProjectImports(t *testing.T) {
	for _, s := range snippets(t) {
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, s.file), nil, parser.ImportsOnly)
		require.NoError(t, err)
		n := 0
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/mpgs/mpgameserver/") {
				n++
			}
		}
		assert.LessOrEqual(t, n, 2, "%s imports %d of the module's packages", s.file, n)
	}
}
