// Package deploy_test checks the deployment recipe in this directory: the
// Dockerfile's build works and its environment names real flags, and the
// Agones manifests and the Prometheus job agree with the server.
package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

// serveFlags builds the binary the way the Dockerfile does and returns
// the flags of its serve command.
func serveFlags(t *testing.T) []string {
	t.Helper()
	docker := read(t, "Dockerfile")
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*) -o \S+ (\S+)$`).FindStringSubmatch(docker)
	require.NotNil(t, m, "the Dockerfile builds with go build")
	gen := strings.Index(docker, "RUN go generate ./internal/arena/web\n")
	require.True(t, gen >= 0 && gen < strings.Index(docker, m[0]), "the image embeds the arena for the browser: go generate before go build")
	args := shellFields(m[1])
	require.Equal(t, []string{"CGO_ENABLED=0", "go", "build"}, args[:3])
	bin := filepath.Join(t.TempDir(), "mpgameserver")
	cmd := exec.Command("go", append(append(args[2:], "-o", bin), m[2])...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the Dockerfile's build: %s", out)

	help, _ := exec.Command(bin, "serve", "--help").CombinedOutput()
	var flags []string
	for _, f := range regexp.MustCompile(`(?m)^  -(\S+)`).FindAllStringSubmatch(string(help), -1) {
		flags = append(flags, f[1])
	}
	require.Contains(t, flags, "listen")
	version, err := exec.Command(bin, "--version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(version), "headless", "the image holds the headless build")
	return flags
}

// shellFields splits a shell command line at spaces outside double
// quotes, dropping the quotes.
func shellFields(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, any := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, any = !quoted, true
		case r == ' ' && !quoted:
			if any {
				out = append(out, cur.String())
			}
			cur.Reset()
			any = false
		default:
			cur.WriteRune(r)
			any = true
		}
	}
	if any {
		out = append(out, cur.String())
	}
	return out
}

// envFlag maps MPGS_LOG_FORMAT to log-format.
func envFlag(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "MPGS_")), "_", "-")
}

func TestDockerfile(t *testing.T) {
	flags := serveFlags(t)
	docker := read(t, "Dockerfile")
	for _, env := range regexp.MustCompile(`MPGS_[A-Z_]+`).FindAllString(docker, -1) {
		assert.Contains(t, flags, envFlag(env), "%s names a flag of serve", env)
	}
	assert.Regexp(t, `(?m)^USER nonroot`, docker, "not root")
	assert.Contains(t, docker, "EXPOSE 1474/udp 8080/tcp")
	assert.Contains(t, docker, "MPGS_LISTEN=:1474")
	assert.Contains(t, docker, "MPGS_HTTP=:8080")
	assert.Contains(t, docker, `ENTRYPOINT ["/usr/local/bin/mpgameserver", "serve"]`)
	// The page over HTTPS, from a mounted certificate.
	assert.Contains(t, docker, "MPGS_WEB_CERT=/certs/tls.crt")
	assert.Contains(t, docker, "MPGS_WEB_KEY=/certs/tls.key")
	assert.NotContains(t, docker, "MPGS_ADMIN_TOKEN=", "no token baked into the image")
	// Its example run publishes the HTTP port (the admin API) on the
	// host's loopback only.
	run := regexp.MustCompile(`docker run[^\n]*\n(#[^\n]*\\\n)*#[^\n]*`).FindString(docker)
	require.NotEmpty(t, run, "the Dockerfile shows how to run it")
	assert.Contains(t, run, "-p 127.0.0.1:8080:8080")
	assert.NotRegexp(t, `-p 8080:8080`, run)
	assert.Contains(t, run, "/certs")
}

// TestDockerignore: the build context sends no keys and no history.
func TestDockerignore(t *testing.T) {
	ignore := strings.Split(read(t, "../../.dockerignore"), "\n")
	for _, want := range []string{".git", "keys/", "**/*.key"} {
		assert.Contains(t, ignore, want)
	}
}

// container is the part of a pod template the checks read.
type container struct {
	Env []struct {
		Name, Value string
	}
	Ports []struct {
		ContainerPort int `yaml:"containerPort"`
		Protocol      string
	}
	VolumeMounts []struct {
		Name      string
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	ReadinessProbe struct {
		HTTPGet struct {
			Path string
			Port int
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
	LivenessProbe struct {
		HTTPGet struct {
			Path string
			Port int
		} `yaml:"httpGet"`
	} `yaml:"livenessProbe"`
}

// gameServerSpec is the part of an Agones GameServer spec the checks read.
type gameServerSpec struct {
	Ports []struct {
		Name          string
		PortPolicy    string `yaml:"portPolicy"`
		ContainerPort int    `yaml:"containerPort"`
		Protocol      string
	}
	Health struct {
		Disabled bool
	}
	Counters map[string]struct {
		Capacity int
	}
	Template struct {
		Spec struct {
			Containers []container
			Volumes    []struct {
				Name   string
				Secret struct {
					SecretName string `yaml:"secretName"`
				}
			}
		}
	}
}

func checkGameServer(t *testing.T, name string, spec gameServerSpec, flags []string) {
	require.Len(t, spec.Ports, 3, name)
	assert.Equal(t, 1474, spec.Ports[0].ContainerPort, name)
	assert.Equal(t, "UDP", spec.Ports[0].Protocol, name)
	// The image's --web (MPGS_WEB=:8081) behind a mapped port; the browser
	// peers' UDP port as Agones chose it, which serve reads from the
	// GameServer when MPGS_WEB_ICE_PORT is 0.
	assert.Equal(t, "web", spec.Ports[1].Name, name)
	assert.Equal(t, 8081, spec.Ports[1].ContainerPort, name)
	assert.Equal(t, "TCP", spec.Ports[1].Protocol, name)
	assert.Equal(t, "web-ice", spec.Ports[2].Name, name)
	assert.Equal(t, "Passthrough", spec.Ports[2].PortPolicy, name)
	assert.Equal(t, "UDP", spec.Ports[2].Protocol, name)
	assert.False(t, spec.Health.Disabled, "%s: health checking on", name)
	assert.Contains(t, spec.Counters, "players", "%s: the counter Run keeps", name)
	require.Len(t, spec.Template.Spec.Containers, 1, name)
	c := spec.Template.Spec.Containers[0]
	assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, name)
	assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, name)
	assert.Equal(t, 8080, c.LivenessProbe.HTTPGet.Port, name)
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "MPGS_") {
			assert.Contains(t, flags, envFlag(e.Name), "%s: %s names a flag of serve", name, e.Name)
		}
	}
	assert.True(t, slices.ContainsFunc(c.Env, func(e struct{ Name, Value string }) bool { return e.Name == "MPGS_KEY" }), "%s: a lasting key", name)
	assert.True(t, slices.ContainsFunc(c.Env, func(e struct{ Name, Value string }) bool {
		return e.Name == "MPGS_WEB_ICE_PORT" && e.Value == "0"
	}), "%s: the browser peers' port from the GameServer", name)
	// The page over HTTPS: the image's MPGS_WEB_CERT and MPGS_WEB_KEY
	// (/certs/tls.crt, /certs/tls.key) from a TLS Secret.
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	secrets := map[string]string{}
	for _, v := range spec.Template.Spec.Volumes {
		secrets[v.Name] = v.Secret.SecretName
	}
	assert.Equal(t, "/certs", mounts["web-tls"], "%s: the certificate where the image looks for it", name)
	assert.NotEmpty(t, secrets["web-tls"], "%s: the certificate from a Secret", name)
	for _, e := range c.Env {
		assert.NotEqual(t, "MPGS_WEB_CERT", e.Name, "%s: the image's certificate path", name)
		if e.Name == "MPGS_ADMIN_TOKEN" || e.Name == "MPGS_ADMIN_READ_TOKEN" {
			assert.Empty(t, e.Value, "%s: a token comes from a Secret (valueFrom), never in the manifest", name)
		}
	}
	for _, p := range c.Ports {
		assert.NotEqual(t, 8081, p.ContainerPort, "%s: the page's port is the GameServer's", name)
	}
}

func TestAgonesManifests(t *testing.T) {
	flags := serveFlags(t)
	var gs struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Spec       gameServerSpec
	}
	require.NoError(t, yaml.Unmarshal([]byte(read(t, "gameserver.yaml")), &gs))
	assert.Equal(t, "agones.dev/v1", gs.APIVersion)
	assert.Equal(t, "GameServer", gs.Kind)
	checkGameServer(t, "gameserver.yaml", gs.Spec, flags)

	var fleet struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string
		Spec       struct {
			Replicas int
			Template struct {
				Spec gameServerSpec
			}
		}
	}
	require.NoError(t, yaml.Unmarshal([]byte(read(t, "fleet.yaml")), &fleet))
	assert.Equal(t, "Fleet", fleet.Kind)
	assert.Positive(t, fleet.Spec.Replicas)
	checkGameServer(t, "fleet.yaml", fleet.Spec.Template.Spec, flags)
}

func TestPrometheusJob(t *testing.T) {
	var cfg struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(read(t, "prometheus.yml")), &cfg))
	require.NotEmpty(t, cfg.ScrapeConfigs)
	assert.Equal(t, "mpgameserver", cfg.ScrapeConfigs[0].JobName)
	assert.Equal(t, []string{"127.0.0.1:8080"}, cfg.ScrapeConfigs[0].StaticConfigs[0].Targets)
}
