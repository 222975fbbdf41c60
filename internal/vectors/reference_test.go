package vectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVectorsAgainstReference re-checks every file of testdata/ with the
// Python reference, through check_reference.py (see GENERATING.md). It needs
// a checkout of the Python mpgameserver 0.2.4:
//
//	MPGS_PY_REFERENCE  directory put on PYTHONPATH (it holds the mpgameserver package)
//	MPGS_PYTHON        interpreter with the reference's dependencies (default python3)
//
// Without MPGS_PY_REFERENCE the test is skipped.
func TestVectorsAgainstReference(t *testing.T) {
	ref := os.Getenv("MPGS_PY_REFERENCE")
	if ref == "" {
		t.Skip("MPGS_PY_REFERENCE is not set; set it to the directory holding the Python mpgameserver 0.2.4 " +
			"package (and MPGS_PYTHON to an interpreter with cryptography and twisted) to re-check testdata/ " +
			"against the reference")
	}
	python := os.Getenv("MPGS_PYTHON")
	if python == "" {
		python = "python3"
	}
	if _, err := exec.LookPath(python); err != nil {
		t.Fatalf("MPGS_PY_REFERENCE is set but the interpreter %q is not usable: %v", python, err)
	}

	out, err := runReferenceCheck(python, ref, "testdata")
	t.Logf("check_reference.py:\n%s", out)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 2 {
		t.Fatalf("check_reference.py could not run with %s and PYTHONPATH=%s (see its output): %v", python, ref, err)
	}
	if err != nil {
		t.Fatalf("the vectors do not agree with the Python reference at %s: %v", ref, err)
	}
	if !strings.Contains(out, "agree with the reference") {
		t.Fatalf("check_reference.py exited 0 without its summary line")
	}

	// The check has teeth: a copy of testdata with one vector value changed
	// is rejected.
	for _, c := range []struct {
		name, file, want string
		corrupt          func(t *testing.T, v map[string]any)
	}{
		{
			name: "packet datagram byte", file: "packets.json",
			want: "MISMATCH packets.json: client_app_1_message: datagram_hex: the reference's AES-GCM rejects it",
			corrupt: func(t *testing.T, v map[string]any) {
				c := index(t, v, "cases", 0).(map[string]any)
				c["datagram_hex"] = flipHexDigit(t, c["datagram_hex"], 2*(20+3))
			},
		},
		{
			name: "receiver dedupe decision", file: "session.json",
			want: "MISMATCH session.json: step 7: receiver_effects.message_dedupe",
			corrupt: func(t *testing.T, v map[string]any) {
				s := index(t, v, "steps", 7).(map[string]any)
				eff := s["receiver_effects"].(map[string]any)
				d := index(t, eff, "message_dedupe", 0).(map[string]any)
				d["result"] = "new"
			},
		},
	} {
		t.Run("corrupted copy/"+c.name, func(t *testing.T) {
			dir := copyTestdata(t)
			path := filepath.Join(dir, c.file)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.UseNumber()
			var v map[string]any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			c.corrupt(t, v)
			if b, err = json.MarshalIndent(v, "", " "); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := runReferenceCheck(python, ref, dir)
			t.Logf("check_reference.py on the corrupted copy:\n%s", out)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("want exit status 1 for a corrupted %s, got %v", c.file, err)
			}
			if !strings.Contains(out, c.want) {
				t.Fatalf("want %q in the output", c.want)
			}
		})
	}
}

// runReferenceCheck runs check_reference.py on a testdata directory and
// returns its combined output.
func runReferenceCheck(python, ref, testdata string) (string, error) {
	cmd := exec.Command(python, "check_reference.py", testdata)
	env := []string{"PYTHONPATH=" + ref, "PYTHONDONTWRITEBYTECODE=1"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PYTHONPATH=") && !strings.HasPrefix(kv, "PYTHONDONTWRITEBYTECODE=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func copyTestdata(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func index(t *testing.T, v map[string]any, key string, i int) any {
	t.Helper()
	l, ok := v[key].([]any)
	if !ok || i >= len(l) {
		t.Fatalf("no %s[%d] in the vector", key, i)
	}
	return l[i]
}

func flipHexDigit(t *testing.T, v any, i int) string {
	t.Helper()
	s, ok := v.(string)
	if !ok || i >= len(s) {
		t.Fatalf("no hex digit %d in %v", i, v)
	}
	d := "1"
	if s[i] == '1' {
		d = "2"
	}
	return s[:i] + d + s[i+1:]
}
