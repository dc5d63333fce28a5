package service_test

import (
	"os"
	"testing"

	"github.com/berth-dev/berth/core/pgembed/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
