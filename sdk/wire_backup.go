package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/berth-dev/berth/sdk/internal/pluginv1"
)

// backupServer serves the BackupTarget service from a BackupTarget.
type backupServer struct {
	pb.UnimplementedBackupTargetServer
	impl BackupTarget
}

func (s *backupServer) Put(stream pb.BackupTarget_PutServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "Put: the first message must be the header")
	}
	body := &putBody{stream: stream}
	r, err := s.impl.Put(stream.Context(), &PutRequest{Key: h.GetKey(), Body: body, Size: h.GetSize(), Metadata: h.GetMetadata()})
	if err != nil {
		return toStatus(err)
	}
	if r == nil {
		return toStatus(errNilResponse("Put"))
	}
	return stream.SendAndClose(&pb.PutResponse{Key: r.Key, Size: r.Size})
}

// putBody reads the data chunks of a Put stream.
type putBody struct {
	stream pb.BackupTarget_PutServer
	buf    []byte
	err    error
}

func (b *putBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		msg, err := b.stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			b.err = io.EOF
		case err != nil:
			if ctxErr := b.stream.Context().Err(); ctxErr != nil {
				b.err = fmt.Errorf("receiving object data: %w", ctxErr)
			} else {
				b.err = fmt.Errorf("receiving object data: %w", err)
			}
		case msg.GetHeader() != nil:
			b.err = fmt.Errorf("receiving object data: unexpected second header: %w", ErrInvalidArgument)
		default:
			b.buf = msg.GetData()
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (s *backupServer) Get(in *pb.GetRequest, stream pb.BackupTarget_GetServer) error {
	r, err := s.impl.Get(stream.Context(), &GetRequest{Key: in.GetKey()})
	if err != nil {
		return toStatus(err)
	}
	if r == nil || r.Body == nil {
		if r != nil {
			return toStatus(fmt.Errorf("Get returned a nil Body"))
		}
		return toStatus(errNilResponse("Get"))
	}
	defer r.Body.Close()
	if err := stream.Send(&pb.GetChunk{Part: &pb.GetChunk_Info{Info: objectToWire(r.Object)}}); err != nil {
		return err
	}
	buf := make([]byte, chunkSize)
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			if serr := stream.Send(&pb.GetChunk{Part: &pb.GetChunk_Data{Data: buf[:n]}}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return toStatus(fmt.Errorf("reading object %q: %w", in.GetKey(), err))
		}
	}
}

func (s *backupServer) List(ctx context.Context, in *pb.ListRequest) (*pb.ListResponse, error) {
	r, err := s.impl.List(ctx, &ListRequest{Prefix: in.GetPrefix()})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("List"))
	}
	out := &pb.ListResponse{}
	for _, o := range r.Objects {
		out.Objects = append(out.Objects, objectToWire(o))
	}
	return out, nil
}

func (s *backupServer) Delete(ctx context.Context, in *pb.DeleteRequest) (*pb.DeleteResponse, error) {
	if _, err := s.impl.Delete(ctx, &DeleteRequest{Key: in.GetKey()}); err != nil {
		return nil, toStatus(err)
	}
	return &pb.DeleteResponse{}, nil
}

func (s *backupServer) TestConnection(ctx context.Context, _ *pb.TestConnectionRequest) (*pb.TestConnectionResponse, error) {
	r, err := s.impl.TestConnection(ctx, &TestConnectionRequest{})
	if err != nil {
		return nil, toStatus(err)
	}
	if r == nil {
		return nil, toStatus(errNilResponse("TestConnection"))
	}
	return &pb.TestConnectionResponse{Message: r.Message}, nil
}

func objectToWire(o ObjectInfo) *pb.ObjectInfo {
	return &pb.ObjectInfo{Key: o.Key, Size: o.Size, ModifiedUnixNano: timeToWire(o.Modified), Metadata: o.Metadata}
}

func objectFromWire(o *pb.ObjectInfo) ObjectInfo {
	return ObjectInfo{Key: o.GetKey(), Size: o.GetSize(), Modified: timeFromWire(o.GetModifiedUnixNano()), Metadata: o.GetMetadata()}
}

// backupClient calls a BackupTarget over gRPC.
type backupClient struct {
	baseClient
	c pb.BackupTargetClient
}

func (c *backupClient) Put(ctx context.Context, req *PutRequest) (*PutResponse, error) {
	if req == nil || req.Body == nil {
		return nil, errNilRequest("Put")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.c.Put(ctx, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	header := &pb.PutChunk{Part: &pb.PutChunk_Header{Header: &pb.PutHeader{Key: req.Key, Size: req.Size, Metadata: req.Metadata}}}
	if err := stream.Send(header); err != nil && !errors.Is(err, io.EOF) {
		return nil, fromStatus(err)
	}
	buf := make([]byte, chunkSize)
	for {
		n, rerr := req.Body.Read(buf)
		if n > 0 {
			if err := stream.Send(&pb.PutChunk{Part: &pb.PutChunk_Data{Data: buf[:n]}}); err != nil {
				if errors.Is(err, io.EOF) {
					break // the plugin answered early; CloseAndRecv has its answer
				}
				return nil, fromStatus(err)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("Put %q: reading the body: %w", req.Key, rerr)
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("Put %q: %w", req.Key, err)
		}
	}
	r, err := stream.CloseAndRecv()
	if err != nil {
		return nil, fromStatus(err)
	}
	return &PutResponse{Key: r.GetKey(), Size: r.GetSize()}, nil
}

func (c *backupClient) Get(ctx context.Context, req *GetRequest) (*GetResponse, error) {
	if req == nil {
		return nil, errNilRequest("Get")
	}
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.c.Get(ctx, &pb.GetRequest{Key: req.Key}, callOptions...)
	if err != nil {
		cancel()
		return nil, fromStatus(err)
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("Get: %w", errMissingResult)
		}
		return nil, fromStatus(err)
	}
	info := first.GetInfo()
	if info == nil {
		cancel()
		return nil, fmt.Errorf("Get: the first message was not the object's info: %w", ErrConnection)
	}
	return &GetResponse{Object: objectFromWire(info), Body: &getBody{stream: stream, cancel: cancel}}, nil
}

// getBody reads the data chunks of a Get stream; Close abandons the stream.
type getBody struct {
	stream pb.BackupTarget_GetClient
	cancel context.CancelFunc
	buf    []byte
	err    error
}

func (b *getBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		msg, err := b.stream.Recv()
		switch {
		case errors.Is(err, io.EOF):
			b.err = io.EOF
		case err != nil:
			b.err = fromStatus(err)
		default:
			b.buf = msg.GetData()
		}
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *getBody) Close() error {
	b.cancel()
	if b.err == nil {
		b.err = errors.New("read of closed body")
	}
	return nil
}

func (c *backupClient) List(ctx context.Context, req *ListRequest) (*ListResponse, error) {
	if req == nil {
		return nil, errNilRequest("List")
	}
	r, err := c.c.List(ctx, &pb.ListRequest{Prefix: req.Prefix}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	out := &ListResponse{}
	for _, o := range r.GetObjects() {
		out.Objects = append(out.Objects, objectFromWire(o))
	}
	return out, nil
}

func (c *backupClient) Delete(ctx context.Context, req *DeleteRequest) (*DeleteResponse, error) {
	if req == nil {
		return nil, errNilRequest("Delete")
	}
	if _, err := c.c.Delete(ctx, &pb.DeleteRequest{Key: req.Key}, callOptions...); err != nil {
		return nil, fromStatus(err)
	}
	return &DeleteResponse{}, nil
}

func (c *backupClient) TestConnection(ctx context.Context, _ *TestConnectionRequest) (*TestConnectionResponse, error) {
	r, err := c.c.TestConnection(ctx, &pb.TestConnectionRequest{}, callOptions...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return &TestConnectionResponse{Message: r.GetMessage()}, nil
}
