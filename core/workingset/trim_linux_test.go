package workingset

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// executableRSS sums the resident kilobytes of the test binary's mappings.
func executableRSS(t *testing.T) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var kb int64
	inExe := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if _, _, ok := executableMapping(line, st.Ino); ok {
			inExe = true
			continue
		}
		fields := strings.Fields(line)
		if len(fields) >= 6 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			inExe = false // the header of another mapping
		}
		if inExe && strings.HasPrefix(line, "Rss:") {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			kb += n
		}
	}
	return kb
}

func TestTrimReleasesExecutablePages(t *testing.T) {
	before := executableRSS(t)
	advised, err := Trim()
	if err != nil {
		t.Fatal(err)
	}
	after := executableRSS(t)
	t.Logf("executable resident: %d KiB before, %d KiB after (%d MiB advised)", before, after, advised>>20)
	if advised == 0 || before == 0 {
		t.Fatalf("found no executable mapping (advised %d bytes, %d KiB resident)", advised, before)
	}
	if after >= before {
		t.Errorf("resident executable pages did not drop: %d KiB before, %d KiB after", before, after)
	}
}
