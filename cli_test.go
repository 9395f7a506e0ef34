package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sessiongql/server/internal/config"
)

func TestHelpListsEverySettingWithItsDefault(t *testing.T) {
	// Checked by hand, besides the table itself: a wrong default in the
	// table would otherwise pass.
	byHand := []string{
		"  PORT (default: 8080)\n      listen port",
		"  HOST (default: 127.0.0.1 when both stores are in-process, else all interfaces)\n",
		"  SESSION_IDLE_TIMEOUT (default: 24h)\n",
		"  SESSION_COOKIE_NAME (default: sid; __Host-sid with COOKIE_SECURE=true)\n",
		"  CORS_ORIGINS (default: http://localhost:5173,http://localhost:3000)\n",
		"  TRUSTED_PROXIES (default: empty)\n",
		"  LOG_FORMAT (default: text)\n      text or json",
		"  LOG_LEVEL (default: info)\n",
		"  BCRYPT_COST (default: 12)\n",
	}
	for _, arg := range []string{"-h", "--help", "-help"} {
		t.Run(arg, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"server", arg}, func(string) string { return "" }, &stdout, &stderr)
			if err != nil || stderr.Len() != 0 {
				t.Fatalf("run: %v, stderr %q", err, stderr.String())
			}
			help := stdout.String()
			if !strings.HasPrefix(help, "usage: server [-h | --help | -version]\n") {
				t.Errorf("help does not start with the usage line:\n%s", help)
			}
			settings := config.Settings()
			if len(settings) < 25 {
				t.Fatalf("only %d settings in the table", len(settings))
			}
			for _, s := range settings {
				want := fmt.Sprintf("  %s (default: %s)\n      %s\n", s.Name, s.DefaultText(), s.Meaning)
				if s.Meaning == "" || !strings.Contains(help, want) {
					t.Errorf("help lacks %q", want)
				}
			}
			for _, want := range byHand {
				if !strings.Contains(help, want) {
					t.Errorf("help lacks %q", want)
				}
			}
		})
	}
}

func TestVersionPrintsOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"server", "-version"}, func(string) string { return "" }, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	if !strings.HasPrefix(out, "sessiongql ") || strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") || stderr.Len() != 0 {
		t.Fatalf("stdout %q stderr %q, want one line starting with sessiongql", out, stderr.String())
	}
}

func TestUnknownArgumentsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"foo"}, {"-x"}, {"--port=1"}, {"-h", "extra"}, {""}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), append([]string{"/usr/bin/server"}, args...), func(string) string { return "" }, &stdout, &stderr)
			if !errors.Is(err, errUsage) {
				t.Fatalf("run: %v, want a usage error", err)
			}
			if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "usage: server ") {
				t.Fatalf("stdout %q, stderr %q: want one usage line on stderr", stdout.String(), stderr.String())
			}
		})
	}
}

// The process itself: exit statuses, and the last line main writes in the
// configured format.
func TestCommandLineExitStatusesAndLastLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server")
	}
	bin := buildServer(t)
	tests := []struct {
		name     string
		args     []string
		env      []string
		status   int
		stdout   string // a prefix of stdout
		lastLine func(string) bool
	}{
		{"help", []string{"-h"}, nil, 0, "usage: server ", nil},
		{"long help", []string{"--help"}, nil, 0, "usage: server ", nil},
		{"version", []string{"-version"}, nil, 0, "sessiongql ", nil},
		{"word", []string{"foo"}, nil, 2, "", nil},
		{"unknown flag", []string{"-x"}, nil, 2, "", nil},
		{"bad setting in text", nil, []string{"REDIS_URL=ftp://x"}, 1, "", func(l string) bool {
			return strings.HasPrefix(logMessage(l, "ERROR"), `server: REDIS_URL="ftp://x": `)
		}},
		{"bad setting in json", nil, []string{"REDIS_URL=ftp://x", "LOG_FORMAT=json"}, 1, "", func(l string) bool {
			var line struct{ Level, Msg string }
			return json.Unmarshal([]byte(l), &line) == nil && line.Level == "ERROR" && strings.HasPrefix(line.Msg, `server: REDIS_URL="ftp://x": `)
		}},
		{"bad log format", nil, []string{"LOG_FORMAT=xml"}, 1, "", func(l string) bool {
			return logMessage(l, "ERROR") == `server: LOG_FORMAT="xml": must be text or json`
		}},
		{"bad log level", nil, []string{"LOG_FORMAT=json", "LOG_LEVEL=loud"}, 1, "", func(l string) bool {
			var line struct{ Msg string }
			return json.Unmarshal([]byte(l), &line) == nil && line.Msg == `server: LOG_LEVEL="loud": must be debug, info, warn or error`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), startupLimit)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			cmd.Env = append([]string{"PORT=" + strconv.Itoa(freePort(t)), "DATA_DIR=" + t.TempDir()}, tt.env...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			status := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				status = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if status != tt.status || !strings.HasPrefix(stdout.String(), tt.stdout) {
				t.Fatalf("exit status %d, want %d; stdout %q; stderr %q", status, tt.status, stdout.String(), stderr.String())
			}
			if tt.lastLine != nil {
				lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
				if last := lines[len(lines)-1]; !tt.lastLine(last) {
					t.Errorf("last line on stderr %q\n%s", last, stderr.String())
				}
			}
		})
	}
}

func TestHostDefaultsToLoopbackOnlyWithBothStoresInProcess(t *testing.T) {
	t.Run("both stores in-process", func(t *testing.T) {
		port := strconv.Itoa(freePort(t))
		logs := runInProcess(t, map[string]string{"PORT": port, "DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"}, "http://127.0.0.1:"+port)
		if l := logs.String(); !strings.Contains(l, "this machine only") || !strings.Contains(l, "addr=127.0.0.1:"+port+" ") {
			t.Errorf("log does not show a loopback listener:\n%s", logs)
		}
	})
	for _, tt := range []struct {
		name, host string
		want       []string // in the log; PORT stands for the port
	}{
		{"external stores", "", []string{`msg="listening on all interfaces" addr=`, ":PORT "}},
		{"external stores, HOST set", "127.0.0.1", []string{"addr=127.0.0.1:PORT "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			if tt.host != "" {
				env["HOST"] = tt.host
			}
			ts := startServer(t, env)
			logs := ts.logs.String()
			for _, want := range tt.want {
				if want = strings.ReplaceAll(want, "PORT", ts.Env["PORT"]); !strings.Contains(logs, want) {
					t.Errorf("log lacks %q:\n%s", want, logs)
				}
			}
			if strings.Contains(logs, "addr=127.0.0.1:") != (tt.host == "127.0.0.1") {
				t.Errorf("loopback listener: %v, want %v:\n%s", !(tt.host == "127.0.0.1"), tt.host == "127.0.0.1", logs)
			}
		})
	}
}

// runInProcess runs the server with exactly env until the test ends, and
// returns its log once url answers /healthz.
func runInProcess(t *testing.T, env map[string]string, url string) *syncBuffer {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run returned: %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("server exited at start: %v\n%s", err, logs)
		default:
		}
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return logs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not answer within 20s\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With LOG_FORMAT=json every line on stderr is JSON: the server's own, the
// access lines, and go-redis's (here, failing to dial a Redis that is not
// there; the server serves regardless).
//
// go-redis's lines go through the process's default logger, which main
// sets (processLogging); so does this test, for the server's log, and
// restores it after. Not parallel: no other test runs meanwhile.
func TestLogFormatJSONWritesEveryLineAsJSON(t *testing.T) {
	logs := &syncBuffer{}
	env := map[string]string{
		"LOG_FORMAT":    "json",
		"REDIS_URL":     "redis://127.0.0.1:" + strconv.Itoa(freePort(t)),
		"STORE_TIMEOUT": "500ms",
	}
	prev := slog.Default()
	processLogging(func(k string) string { return env[k] }, logs)
	t.Cleanup(func() { slog.SetDefault(prev) })
	ts := startServer(t, env)
	c := ts.client(t)
	for _, path := range []string{"/healthz", "/readyz", "/no/such/path", "/a%20b\"c"} {
		resp, err := c.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	r := ts.gql(t, c, registerMutation, map[string]any{"i": map[string]any{"email": "u-" + randomHex(6) + "@example.com", "password": "correct horse battery", "name": "J"}})
	if r.code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("register without Redis: %+v", r.Errors)
	}
	if err := ts.Stop(t); err != nil {
		t.Fatal(err)
	}

	all := ts.logs.String() + logs.String()
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimRight(all, "\n"), "\n")
	for _, l := range lines {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("a line is not JSON (%v): %q", err, l)
		}
		if line["time"] == nil || line["level"] == nil || line["msg"] == nil {
			t.Errorf("a line lacks time, level or msg: %q", l)
		}
		msg, _ := line["msg"].(string)
		switch {
		case msg == "request":
			if line["method"] == nil || line["path"] == nil || line["status"] == nil || line["duration"] == nil {
				t.Errorf("an access line lacks a field: %q", l)
			}
			seen["request "+line["path"].(string)] = true
		case line["component"] == "go-redis":
			seen["go-redis"] = true
		case strings.HasPrefix(msg, "listening"):
			seen["listening"] = true
		}
	}
	for _, want := range []string{"listening", "go-redis", "request /readyz", "request /graphql", `request /a b"c`} {
		if !seen[want] {
			t.Errorf("no %s line among the %d lines:\n%s", want, len(lines), all)
		}
	}
}

func TestLogLevelWarnDropsInfoLines(t *testing.T) {
	for _, tt := range []struct {
		level    string
		wantInfo bool
	}{
		{"warn", false},
		{"error", false},
		{"info", true},
		{"debug", true},
	} {
		t.Run(tt.level, func(t *testing.T) {
			ts := startServer(t, map[string]string{"LOG_LEVEL": tt.level})
			resp, err := http.Get(ts.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := ts.Stop(t); err != nil {
				t.Fatal(err)
			}
			logs := ts.logs.String()
			if got := strings.Contains(logs, "level=INFO"); got != tt.wantInfo {
				t.Errorf("info lines logged: %v, want %v\n%s", got, tt.wantInfo, logs)
			}
			if got := strings.Contains(logs, "msg=request"); got != tt.wantInfo {
				t.Errorf("access lines logged: %v, want %v\n%s", got, tt.wantInfo, logs)
			}
		})
	}
}

func TestBadLogSettingIsOneLineNamingIt(t *testing.T) {
	for _, tt := range []struct{ name, value string }{
		{"LOG_FORMAT", "xml"},
		{"LOG_FORMAT", "JSONL"},
		{"LOG_LEVEL", "loud"},
		{"HOST", "a host"},
	} {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			stderr := &syncBuffer{}
			err := runUntilItStops(t, map[string]string{
				"PORT": strconv.Itoa(freePort(t)), "MONGODB_URI": testMongoURI, "REDIS_URL": "redis://127.0.0.1:1", "ENCRYPTION_KEY": testEncryptionKey, tt.name: tt.value,
			}, stderr)
			want := fmt.Sprintf("%s=%q: ", tt.name, tt.value)
			if err == nil || !strings.HasPrefix(err.Error(), want) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("run: %v, want one line starting %s", err, want)
			}
			if stderr.String() != "" {
				t.Errorf("logged before the error: %q", stderr.String())
			}
		})
	}
}

// logMessage returns the message of a line slog's TextHandler wrote at
// level, or "" for any other line.
func logMessage(line, level string) string {
	if !strings.HasPrefix(line, "time=") || !strings.Contains(line, " level="+level+" ") {
		return ""
	}
	_, rest, ok := strings.Cut(line, " msg=")
	if !ok {
		return ""
	}
	if !strings.HasPrefix(rest, `"`) {
		msg, _, _ := strings.Cut(rest, " ")
		return msg
	}
	quoted, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return ""
	}
	msg, _ := strconv.Unquote(quoted)
	return msg
}

// buildServer builds the server binary with the build tags given and
// returns its path.
func buildServer(t *testing.T, tags ...string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the server with")
	}
	bin := filepath.Join(t.TempDir(), "server")
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	if out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}
