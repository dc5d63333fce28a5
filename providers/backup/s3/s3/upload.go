package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/berth-dev/berth/providers/backup/internal/objectkey"
	"github.com/berth-dev/berth/sdk"
)

// detachedTimeout bounds the requests of a multipart upload that run even
// when the Put's context was cancelled: creating, completing and aborting.
const detachedTimeout = 5 * time.Minute

// maxPartSize is the largest part S3 accepts.
const maxPartSize = 5 << 30

// Put streams the body to the bucket: in one PUT when it fits in one part,
// else as a multipart upload completed only after the body ended cleanly.
func (t *Target) Put(ctx context.Context, req *sdk.PutRequest) (*sdk.PutResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	c, err := t.config()
	if err != nil {
		return nil, err
	}
	if err := objectkey.Validate(req.Key); err != nil {
		return nil, err
	}
	meta, err := encodeMetadata(req.Metadata)
	if err != nil {
		return nil, fmt.Errorf("put %s: %w", req.Key, err)
	}
	u := &upload{
		c:      c,
		key:    req.Key,
		object: c.prefix + req.Key,
		body:   ctxReader{ctx, req.Body},
		size:   req.Size,
		opts:   minio.PutObjectOptions{UserMetadata: meta},
	}
	n, err := u.run(ctx)
	if err != nil {
		return nil, err
	}
	return &sdk.PutResponse{Key: req.Key, Size: n}, nil
}

// upload is one Put in progress.
type upload struct {
	c      *config
	key    string // as berth knows it
	object string // in the bucket, with the prefix
	body   io.Reader
	size   int64 // declared size, -1 when unknown
	opts   minio.PutObjectOptions
	read   int64 // bytes read from body so far
}

// partSize returns the size of the parts: the configured size, grown when
// a declared size would not fit in maxParts parts.
func (u *upload) partSize() (int64, error) {
	size := u.c.partSize
	if u.size > size*maxParts {
		need := (u.size + maxParts - 1) / maxParts
		size = (need + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
	}
	if size > maxPartSize {
		return 0, fmt.Errorf("put %s: %d bytes is more than S3 can store in one object: %w", u.key, u.size, sdk.ErrInvalidArgument)
	}
	return size, nil
}

// fill reads the next part into buf. It returns the number of bytes read
// and whether the body ended.
func (u *upload) fill(ctx context.Context, buf []byte) (int, bool, error) {
	n, err := io.ReadFull(u.body, buf)
	u.read += int64(n)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		err = nil
		if u.size >= 0 && u.read != u.size {
			err = fmt.Errorf("put %s: the body had %d bytes, the request said %d: %w", u.key, u.read, u.size, sdk.ErrInvalidArgument)
		}
		return n, true, err
	case err != nil:
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return n, false, fmt.Errorf("put %s: reading the body: %w", u.key, err)
	case u.size >= 0 && u.read > u.size:
		return n, false, fmt.Errorf("put %s: the body is longer than the %d bytes the request said: %w", u.key, u.size, sdk.ErrInvalidArgument)
	}
	return n, false, nil
}

// run performs the upload and returns the object's size.
func (u *upload) run(ctx context.Context) (int64, error) {
	partSize, err := u.partSize()
	if err != nil {
		return 0, err
	}
	bufSize := partSize
	if u.size >= 0 && u.size < partSize {
		bufSize = u.size + 1 // one more byte tells a body longer than said
	}
	buf := make([]byte, bufSize)
	n, last, err := u.fill(ctx, buf)
	if err != nil {
		return 0, err
	}
	if last {
		return u.single(ctx, buf[:n])
	}
	return u.multipart(ctx, buf, n)
}

// single stores a whole body held in data with one PUT.
func (u *upload) single(ctx context.Context, data []byte) (int64, error) {
	what := "put " + u.key
	_, err := u.c.client.PutObject(ctx, u.c.bucket, u.object, bytes.NewReader(data), int64(len(data)), contentMD5(data), "", u.opts)
	if err != nil {
		return 0, u.c.explain(ctx, what, err)
	}
	return int64(len(data)), nil
}

// multipart stores the body as a multipart upload whose first part, n
// bytes, is in buf. buf is reused for every part.
func (u *upload) multipart(ctx context.Context, buf []byte, n int) (_ int64, err error) {
	what := "put " + u.key
	// Not cancelled with ctx: a cancellation that lands after the service
	// created the upload but before its answer would leave the upload
	// unknown to us, so never aborted.
	id, err := detached(ctx, func(dctx context.Context) (string, error) {
		return u.c.client.NewMultipartUpload(dctx, u.c.bucket, u.object, u.opts)
	})
	if err != nil {
		return 0, u.c.explain(ctx, what, err)
	}
	defer func() {
		if err != nil {
			u.abort(ctx, id)
		}
	}()
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	var parts []minio.CompletePart
	for number, last := 1, false; ; number++ {
		if number > maxParts {
			return 0, fmt.Errorf("%s: the body is larger than %d parts of %d MiB; raise part_size_mib: %w", what, maxParts, len(buf)>>20, sdk.ErrInvalidArgument)
		}
		part, err := u.c.client.PutObjectPart(ctx, u.c.bucket, u.object, id, number, bytes.NewReader(buf[:n]), int64(n),
			minio.PutObjectPartOptions{Md5Base64: contentMD5(buf[:n])})
		if err != nil {
			return 0, u.c.explain(ctx, fmt.Sprintf("%s: part %d", what, number), err)
		}
		parts = append(parts, minio.CompletePart{PartNumber: number, ETag: part.ETag})
		if last {
			break
		}
		if n, last, err = u.fill(ctx, buf); err != nil {
			return 0, err
		}
		if last && n == 0 {
			break // the body ended on a part boundary
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	// The body was read completely: from here on the object is whole, and
	// completing is not cancelled, so that the answer says truly whether
	// it was stored.
	if _, err := detached(ctx, func(dctx context.Context) (minio.UploadInfo, error) {
		return u.c.client.CompleteMultipartUpload(dctx, u.c.bucket, u.object, id, parts, minio.PutObjectOptions{})
	}); err != nil {
		return 0, u.c.explain(ctx, what, err)
	}
	return u.read, nil
}

// detached runs call with a context that ctx's cancellation does not reach,
// bounded by detachedTimeout.
func detached[T any](ctx context.Context, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), detachedTimeout)
	defer cancel()
	return call(ctx)
}

// abort abandons a multipart upload so that its parts do not linger (and
// cost) in the bucket. It runs even when ctx was cancelled.
func (u *upload) abort(ctx context.Context, id string) {
	_, err := detached(ctx, func(dctx context.Context) (struct{}, error) {
		return struct{}{}, u.c.client.AbortMultipartUpload(dctx, u.c.bucket, u.object, id)
	})
	if err != nil {
		sdk.Logger().Warn("aborting a failed multipart upload failed; its parts stay in the bucket until a lifecycle rule removes them",
			"bucket", u.c.bucket, "object", u.object, "upload_id", id, "error", err.Error())
	}
}

// contentMD5 returns the base64 MD5 of data for the Content-MD5 header,
// which lets the service refuse a part damaged on the way.
func contentMD5(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ctxReader stops reading once ctx is done, so a cancelled Put ends even
// when its body keeps delivering data.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
