package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// readyTimeout bounds the wait for a new redis-server to answer.
const readyTimeout = 10 * time.Second

// logTail is how much of a failed server's log goes into the error.
const logTail = 2048

// errExited reports a process that died before answering, typically
// because its port was taken; a retry on another port may succeed.
var errExited = errors.New("exited before answering")

// process is one running redis-server: a standalone server now, a cluster
// node later.
type process struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once cmd.Wait has returned
	waitErr error         // set before exited is closed
}

// startProcess runs bin with args in dir, its output going to logName in
// dir, and waits until it answers on 127.0.0.1:port. On failure the
// process is gone and the error carries the tail of its log.
func startProcess(bin, dir, logName string, port int, args ...string) (*process, error) {
	logPath := filepath.Join(dir, logName)
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	err = cmd.Start()
	logFile.Close() // the child has its own descriptor
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", bin, err)
	}

	p := &process{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := p.waitReady(addr); err != nil {
		p.kill()
		return nil, fmt.Errorf("%s on %s: %w\n%s", filepath.Base(bin), addr, err, p.tail())
	}
	return p, nil
}

// waitReady polls addr until our process answers, it exits, or readyTimeout
// passes.
func (p *process) waitReady(addr string) error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%w: %v", errExited, p.waitErr)
		default:
		}
		pid, err := ping(addr)
		switch {
		case err != nil:
			lastErr = err
		case pid != p.cmd.Process.Pid:
			// Someone else's server holds the port; ours will exit.
			lastErr = fmt.Errorf("port answered by another redis-server (pid %d)", pid)
		default:
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer within %v: %w", readyTimeout, lastErr)
}

// kill sends SIGKILL and waits until the process is reaped.
func (p *process) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// tail returns the end of the process's log, for failure messages.
func (p *process) tail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	if len(b) > logTail {
		b = b[len(b)-logTail:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "--- " + p.logPath + " (tail) ---\n" + string(b)
}

// ping asks the server on addr for its process id with an inline INFO
// command: enough to know it accepts commands, and to tell our process from
// another that grabbed the port first, without a client library.
func ping(addr string) (pid int, err error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return 0, err
	}
	if _, err := io.WriteString(conn, "INFO server\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	header, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	header = strings.TrimSpace(header)
	size, err := strconv.Atoi(strings.TrimPrefix(header, "$"))
	if !strings.HasPrefix(header, "$") || err != nil {
		return 0, errors.New("INFO answered " + strconv.Quote(header))
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server without process_id")
}
