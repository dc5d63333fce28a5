// Command volumeapp is the application the volume backup tests run as a
// Swarm service with a named volume at DATA_DIR (default /data).
//
// On its first start (no DATA_DIR/.seeded) it fills the volume with random
// files: nested directories, a 3 MiB blob, a file owned by 1234:5678 with
// mode 0600, an empty file and a symlink, writing .seeded last. A later
// start keeps the volume as it is, so a restored volume is never reseeded.
// While it runs, a file named .wipe in the volume makes it delete
// everything in the volume. It needs no shell: the image is FROM scratch.
package main

import (
	"crypto/rand"
	"encoding/hex"
	"log"
	"os"
	"path/filepath"
	"time"
)

func main() {
	dir := os.Getenv("DATA_DIR")
	if dir == "" {
		dir = "/data"
	}
	if _, err := os.Stat(filepath.Join(dir, ".seeded")); os.IsNotExist(err) {
		if err := seed(dir); err != nil {
			log.Fatalf("seed %s: %v", dir, err)
		}
		log.Printf("seeded %s", dir)
	}
	for range time.Tick(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, ".wipe")); err == nil {
			if err := wipe(dir); err != nil {
				log.Fatalf("wipe %s: %v", dir, err)
			}
			log.Printf("wiped %s", dir)
		}
	}
}

func seed(dir string) error {
	random := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	if err := os.MkdirAll(filepath.Join(dir, "nested", "deep"), 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"notes.txt", []byte("notes " + hex.EncodeToString(random(16)) + "\n"), 0o644},
		{"nested/deep/blob.bin", random(3 << 20), 0o644},
		{"nested/secret.txt", []byte(hex.EncodeToString(random(32))), 0o600},
		{"empty", nil, 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	if err := os.Chown(filepath.Join(dir, "nested/secret.txt"), 1234, 5678); err != nil {
		return err
	}
	if err := os.Symlink("nested/deep/blob.bin", filepath.Join(dir, "latest")); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ".seeded"), []byte("yes\n"), 0o644)
}

func wipe(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
