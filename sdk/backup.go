package sdk

import (
	"context"
	"fmt"
	"io"
	"time"
)

// BackupTarget stores backup objects (database dumps, volume archives)
// under keys such as "postgres/app-db/2025-01-02T03-04-05Z.sql.gz".
type BackupTarget interface {
	Plugin
	// Put stores req.Body under req.Key, replacing any object there. The
	// object must not be visible under Key until Body was read completely:
	// a cancelled or failed Put leaves no partial object.
	Put(ctx context.Context, req *PutRequest) (*PutResponse, error)
	// Get opens an object. The caller closes Body. A missing key is an
	// error wrapping ErrNotFound.
	Get(ctx context.Context, req *GetRequest) (*GetResponse, error)
	// List lists the objects whose key starts with req.Prefix, sorted by key.
	List(ctx context.Context, req *ListRequest) (*ListResponse, error)
	// Delete removes an object. A missing key is an error wrapping ErrNotFound.
	Delete(ctx context.Context, req *DeleteRequest) (*DeleteResponse, error)
	// TestConnection checks that the settings work (credentials, bucket,
	// permissions) without changing anything the user stored.
	TestConnection(ctx context.Context, req *TestConnectionRequest) (*TestConnectionResponse, error)
}

// PutRequest stores an object.
type PutRequest struct {
	// Key is a relative, slash-separated path; no "..", no leading slash.
	Key string
	// Body is read to EOF.
	Body io.Reader
	// Size is Body's length when known, else -1.
	Size int64
	// Metadata is stored with the object (content type, database version).
	Metadata map[string]string
}

// PutResponse confirms a stored object.
type PutResponse struct {
	Key  string
	Size int64
}

// GetRequest opens an object.
type GetRequest struct {
	Key string
}

// GetResponse streams an object.
type GetResponse struct {
	Object ObjectInfo
	// Body is the object's content; the caller must Close it.
	Body io.ReadCloser
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key      string
	Size     int64
	Modified time.Time
	Metadata map[string]string
}

// ListRequest lists objects.
type ListRequest struct {
	Prefix string
}

// ListResponse lists objects sorted by key.
type ListResponse struct {
	Objects []ObjectInfo
}

// DeleteRequest removes an object.
type DeleteRequest struct {
	Key string
}

// DeleteResponse is the response of Delete.
type DeleteResponse struct{}

// TestConnectionRequest asks a plugin to check its settings against the
// service it talks to.
type TestConnectionRequest struct{}

// TestConnectionResponse reports a successful check.
type TestConnectionResponse struct {
	// Message is shown to the user: "connected to bucket backups".
	Message string
}

// UnimplementedBackupTarget is embedded by backup targets so that methods
// added to BackupTarget later do not break them. Every method answers
// ErrUnimplemented.
type UnimplementedBackupTarget struct{ UnimplementedPlugin }

// Put returns ErrUnimplemented.
func (UnimplementedBackupTarget) Put(context.Context, *PutRequest) (*PutResponse, error) {
	return nil, fmt.Errorf("Put: %w", ErrUnimplemented)
}

// Get returns ErrUnimplemented.
func (UnimplementedBackupTarget) Get(context.Context, *GetRequest) (*GetResponse, error) {
	return nil, fmt.Errorf("Get: %w", ErrUnimplemented)
}

// List returns ErrUnimplemented.
func (UnimplementedBackupTarget) List(context.Context, *ListRequest) (*ListResponse, error) {
	return nil, fmt.Errorf("List: %w", ErrUnimplemented)
}

// Delete returns ErrUnimplemented.
func (UnimplementedBackupTarget) Delete(context.Context, *DeleteRequest) (*DeleteResponse, error) {
	return nil, fmt.Errorf("Delete: %w", ErrUnimplemented)
}

// TestConnection returns ErrUnimplemented.
func (UnimplementedBackupTarget) TestConnection(context.Context, *TestConnectionRequest) (*TestConnectionResponse, error) {
	return nil, fmt.Errorf("TestConnection: %w", ErrUnimplemented)
}
