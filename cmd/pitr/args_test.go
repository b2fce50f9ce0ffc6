package main

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHideSecrets(t *testing.T) {
	in := []string{"pitr", "replay", "--target-password=Tgt Pw", "--source-password=", "--source-password",
		"--source=mysql://u:UriPw@h:1", "mysql://u@h", "--target-user=x", "--password-file=y"}
	args := make([]string, len(in))
	for i, a := range in {
		args[i] = strings.Clone(a) // heap memory, as the argument block is writable; literals are not
	}
	out := hideSecrets(args)
	for i := range in {
		if out[i] != in[i] {
			t.Errorf("parser copy %d = %q, want %q", i, out[i], in[i])
		}
	}
	want := []string{"pitr", "replay", "--target-password=xxxxxx", "--source-password=", "--source-password",
		"--source=mysql://u:xxxxx@h:1", "mysql://u@h", "--target-user=x", "--password-file=y"}
	if runtime.GOOS != "linux" {
		want = in
	}
	for i := range want {
		if args[i] != want[i] {
			t.Errorf("argument %d left as %q, want %q", i, args[i], want[i])
		}
	}
}

// TestPasswordNotInProcessList runs pitr against a server that never answers and reads its
// command line as ps does while it waits.
func TestPasswordNotInProcessList(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and say nothing
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	cmd := exec.Command(pitrBinary(t), "replay", "--no-defaults", "--source-host", "127.0.0.1", "--source-port", port,
		"--source-user", "u", "--source-password=Sup3rSecretPw", "--source-tls", "disabled")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var cmdline []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		cmdline, err = os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
		if err == nil && strings.Contains(string(cmdline), "--source-password=x") {
			break
		}
	}
	if strings.Contains(string(cmdline), "Sup3rSecretPw") || !strings.Contains(string(cmdline), "--source-password=xxxxxxxxxxxxx") {
		t.Errorf("the process list shows %q", strings.ReplaceAll(string(cmdline), "\x00", " "))
	}
}
