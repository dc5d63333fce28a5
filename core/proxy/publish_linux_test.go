package proxy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestPublishConfigWakesTraefikOnce watches the published directory with
// inotify, as Traefik's file provider does: a publication must show up as
// one rename into it, not as a temp file being created and written there
// (each event makes Traefik reload every file).
func TestPublishConfigWakesTraefikOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dynamic")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := NewPublisher(dir, "")
	ctx := context.Background()
	cfg := func(host string) *Config { return Generate(Snapshot{Routes: []Route{web("a", host)}}).Config }
	if _, err := p.PublishConfig(ctx, cfg("a.example.com")); err != nil {
		t.Fatal(err)
	}

	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_ALL_EVENTS); err != nil {
		t.Fatal(err)
	}
	if changed, err := p.PublishConfig(ctx, cfg("b.example.com")); err != nil || !changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
	time.Sleep(10 * time.Millisecond)

	var events []string
	buf := make([]byte, 64<<10)
	n, _ := syscall.Read(fd, buf)
	for off := 0; off+syscall.SizeofInotifyEvent <= n; {
		ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
		name := strings.TrimRight(string(buf[off+syscall.SizeofInotifyEvent:off+syscall.SizeofInotifyEvent+int(ev.Len)]), "\x00")
		off += syscall.SizeofInotifyEvent + int(ev.Len)
		if ev.Mask&(syscall.IN_OPEN|syscall.IN_ACCESS|syscall.IN_CLOSE_NOWRITE|syscall.IN_ISDIR) != 0 {
			continue // reads: the publisher compares with the current file
		}
		events = append(events, name)
		if name != DefaultDynamicFile || ev.Mask&syscall.IN_MOVED_TO == 0 {
			t.Errorf("unexpected event %#x on %q in the watched directory", ev.Mask, name)
		}
	}
	if len(events) != 1 {
		t.Errorf("events in the watched directory: %v, want one rename of %s", events, DefaultDynamicFile)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("temp files left next to the watched directory: %v", entries)
	}
}
