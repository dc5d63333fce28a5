package s3test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"
)

func TestStart(t *testing.T) {
	s := Start(t)
	c := s.Client(t)
	ctx := t.Context()
	if ok, err := c.BucketExists(ctx, s.Bucket); err != nil || !ok {
		t.Fatalf("BucketExists(%s) = %v, %v", s.Bucket, ok, err)
	}
	if _, err := c.PutObject(ctx, s.Bucket, "a/b.txt", bytes.NewReader([]byte("hello")), 5, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(ctx, s.Bucket, "a/b.txt", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if data, err := io.ReadAll(obj); err != nil || string(data) != "hello" {
		t.Errorf("GetObject = %q, %v", data, err)
	}
	if data, err := os.ReadFile(filepath.Join(s.Dir, s.Bucket, "a", "b.txt")); err != nil || string(data) != "hello" {
		t.Errorf("the object's file holds %q (%v)", data, err)
	}
}
