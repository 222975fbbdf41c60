// Package readme checks the README: its Go snippets are whole programs of
// the tree (so they compile with the tests and cannot rot), it stays
// short, its links and the docs' lead somewhere.
package readme_test

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mpgs/mpgameserver/ops/prom"
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

// TestSnippetsArePrograms: a snippet is a whole program, the file it names
// from its first line to its last, so that what a reader copies builds
// and runs as it is (examples/minimal's test builds and runs the two
// together, in a module of their own).
func TestSnippetsArePrograms(t *testing.T) {
	sn := snippets(t)
	require.GreaterOrEqual(t, len(sn), 2, "the server and client snippets")
	for _, s := range sn {
		src, err := os.ReadFile(filepath.Join(root, s.file))
		require.NoError(t, err, s.file)
		assert.Contains(t, string(src), "\npackage main\n", "%s is a program", s.file)
		assert.Contains(t, string(src), "\nfunc main() {", "%s is a program", s.file)
		want := strings.TrimSpace(string(src))
		got := strings.TrimSpace(strings.Join(s.lines, "\n"))
		assert.Equal(t, want, got, "README's snippet of %s is the whole file; copy it again", s.file)
	}
}

// TestReadmeIsShort: the README says what a newcomer needs, the rest is
// in docs/.
func TestReadmeIsShort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	assert.LessOrEqual(t, strings.Count(string(b), "\n"), 300)
}

// TestDocLinks: every relative link of README and docs/ leads to a file
// of the tree.
func TestDocLinks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	require.NoError(t, err)
	files = append(files, filepath.Join(root, "README.md"), filepath.Join(root, "BENCHMARKS.md"))
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			_, err := os.Stat(filepath.Join(filepath.Dir(f), target))
			assert.NoError(t, err, "%s links to %s", f, m[1])
		}
	}
}

// TestSnippetsHandleErrors: no call in a snippet's file drops an error on
// the floor (as a statement of its own, or assigned to _): copied into a
// game, a busy port or a wrong key path must say so.
func TestSnippetsHandleErrors(t *testing.T) {
	for _, s := range snippets(t) {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, filepath.Join(root, s.file), nil, 0)
		require.NoError(t, err)
		info := typeCheck(t, fset, f)
		errType := types.Universe.Lookup("error").Type()
		returnsErr := func(e ast.Expr) bool {
			call, ok := ast.Unparen(e).(*ast.CallExpr)
			if !ok {
				return false
			}
			switch tv := info.Types[call].Type.(type) {
			case *types.Tuple:
				for i := 0; i < tv.Len(); i++ {
					if types.Identical(tv.At(i).Type(), errType) {
						return true
					}
				}
			case nil:
			default:
				return types.Identical(tv, errType)
			}
			return false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ExprStmt:
				assert.False(t, returnsErr(n.X), "%s: the error of %s is dropped", s.file, fset.Position(n.Pos()))
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name == "_" && len(n.Rhs) == len(n.Lhs) {
						assert.False(t, returnsErr(n.Rhs[i]), "%s: the error of %s is assigned to _", s.file, fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
	}
}

// typeCheck type-checks f with the export data of its imports, which go
// list builds.
func typeCheck(t *testing.T, fset *token.FileSet, f *ast.File) *types.Info {
	var paths []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		paths = append(paths, p)
	}
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-f", "{{.ImportPath}} {{.Export}}"}, paths...)...)
	cmd.Dir = root
	out, err := cmd.Output()
	require.NoError(t, err, "go list -export")
	exports := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if p, file, ok := strings.Cut(line, " "); ok {
			exports[p] = file
		}
	}
	lookup := func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok || file == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(file)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", lookup)}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	_, err = conf.Check(f.Name.Name, fset, []*ast.File{f}, info)
	require.NoError(t, err)
	return info
}

// TestGettingStarted: README says how to use the module from a clone
// (it is not published), and that the first build is slow, before a
// reader thinks it hung.
func TestGettingStarted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	readme := string(b)
	assert.Contains(t, readme, "go mod edit -require github.com/mpgs/mpgameserver@v0.0.0 -replace github.com/mpgs/mpgameserver=")
	assert.Contains(t, readme, "go mod tidy")
	top := readme[:min(len(readme), 1200)]
	assert.Contains(t, top, "go build -o mpgameserver ./cmd/mpgameserver", "the first screen suggests building once")
	assert.Regexp(t, `first .go run. compiles Ebitengine and takes 1 to 6 minutes`, top)
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

// TestPlatformTable: README says where the project runs, row by row, as
// CI's cross-builds check it.
func TestPlatformTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	require.NoError(t, err)
	readme := string(b)
	require.Contains(t, readme, "## Platforms")
	for _, row := range []string{"| Linux", "| Windows", "| macOS", "| Android, iOS", "| FreeBSD", "| Browser (`GOOS=js GOARCH=wasm`)"} {
		assert.Contains(t, readme, row)
	}
	for _, p := range []string{"windows/amd64", "darwin/arm64", "android/arm64", "ios/arm64", "freebsd/amd64", "js/wasm"} {
		assert.Contains(t, string(ci), p, "CI builds %s", p)
	}
}

// TestMetricsAreDocumented: the operations guide's table names every
// metric the collector exports (in full, or as _suffix after a full name
// on its row).
func TestMetricsAreDocumented(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "docs", "operations.md"))
	require.NoError(t, err)
	doc := string(b)
	for _, m := range prom.Metrics() {
		full := prom.Namespace + "_" + m.Name
		if !strings.Contains(doc, "`"+full+"`") && !strings.Contains(doc, "`"+full+"{") {
			assert.Regexp(t, "(?m)^\\| `"+prom.Namespace+"_.*`_"+regexp.QuoteMeta(m.Name)+"[`{]", doc, "the metrics table names %s", full)
		}
	}
}
