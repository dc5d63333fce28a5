package dockerbuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"

	"github.com/distribution/reference"

	"github.com/berth-dev/berth/sdk"
)

// ArgNamePattern is the pattern of build argument names: identifiers.
const ArgNamePattern = `^[A-Za-z_][A-Za-z0-9_]*$`

var argPattern = regexp.MustCompile(ArgNamePattern)

// CheckImageName validates the image reference a build is asked to produce.
func CheckImageName(image string) error {
	if _, err := reference.ParseNormalizedNamed(image); err != nil {
		return fmt.Errorf("image name %q: %w: %w", image, err, sdk.ErrInvalidArgument)
	}
	return nil
}

// CheckBuildArgs adds a field error to errs (under field) for each build
// argument name that is not an identifier.
func CheckBuildArgs(errs *sdk.ConfigError, field string, args map[string]string) {
	for _, k := range sortedKeys(args) {
		if !argPattern.MatchString(k) {
			errs.Add(field+"."+k, "is not a valid build argument name (letters, digits and _, not starting with a digit)")
		}
	}
}

// errBuildReturned stops a context writer the engine no longer reads.
var errBuildReturned = errors.New("the build returned")

// BuildContext streams a build context, written by write, to the Docker
// Engine and builds it with opts. An error of write wins over the engine's,
// which is then only a consequence of the truncated context.
func BuildContext(ctx context.Context, host string, write func(context.Context, io.Writer) error, opts BuildOptions, log sdk.LogFunc) (string, error) {
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		err := write(ctx, pw)
		pw.CloseWithError(err)
		written <- err
	}()
	id, err := BuildImage(ctx, host, pr, opts, log)
	pr.CloseWithError(errBuildReturned)
	// The engine closing the pipe is a consequence of its own error.
	if werr := <-written; werr != nil && !errors.Is(werr, errBuildReturned) && !errors.Is(werr, io.ErrClosedPipe) {
		if ctx.Err() != nil {
			return "", fmt.Errorf("writing the build context: %w", ctx.Err())
		}
		return "", werr
	}
	return id, err
}
