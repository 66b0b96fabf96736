package flowmeta

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// GenerateBenchFiles writes n flow files of about 300 lines each into dir,
// mixing the constructs real flow files hold (imports, models, enums,
// helpers, tasks, a flow with a rich signature). scripts/bench-flowmeta.sh
// uses the same files for the Python side.
func GenerateBenchFiles(dir string, n int) ([]string, error) {
	var eps []string
	for i := 0; i < n; i++ {
		var b strings.Builder
		fmt.Fprintf(&b, "\"\"\"Generated flow module %d.\"\"\"\n", i)
		b.WriteString("from __future__ import annotations\n\nimport datetime\nfrom enum import Enum\nfrom typing import Any, Dict, List, Literal, Optional, Union\n\n")
		b.WriteString("from pydantic import BaseModel\nfrom prefect import flow, task\n\n\n")
		fmt.Fprintf(&b, "class Mode%d(str, Enum):\n    FAST = \"fast\"\n    SLOW = \"slow\"\n\n\n", i)
		fmt.Fprintf(&b, "class Settings%d(BaseModel):\n    \"\"\"Settings.\"\"\"\n\n    name: str = \"x\"\n    retries: int = 3\n    tags: List[str] = []\n    mode: Mode%d = Mode%d.FAST\n\n\n", i, i, i)
		for h := 0; h < 17; h++ {
			fmt.Fprintf(&b, "@task(retries=2)\ndef helper_%d(x: int, y: Optional[str] = None) -> Dict[str, Any]:\n", h)
			b.WriteString("    \"\"\"Helper.\n\n    Args:\n        x: the x\n    \"\"\"\n")
			b.WriteString("    values = [v * 2 for v in range(x) if v % 3]\n    out = {f\"k{v}\": v for v in values}\n")
			b.WriteString("    if (n := len(out)) > 10:\n        out[\"n\"] = n\n    return out\n\n\n")
		}
		fmt.Fprintf(&b, "@flow(name=\"bench-flow-%d\", version=\"1.0\", retries=1)\n", i)
		fmt.Fprintf(&b, "def bench_flow(\n    a: int,\n    b: str = \"b\",\n    c: float = 1.5,\n    d: Optional[List[int]] = None,\n    e: Union[int, str] = 1,\n    f: Literal[\"x\", \"y\"] = \"x\",\n    g: datetime.timedelta = datetime.timedelta(seconds=5),\n    h: Settings%d = Settings%d(),\n    mode: Mode%d = Mode%d.SLOW,\n    *args: int,\n    **kwargs: Any,\n):\n", i, i, i, i)
		b.WriteString("    \"\"\"The flow.\n\n    Args:\n        a: first\n        b: second\n    \"\"\"\n")
		for h := 0; h < 17; h++ {
			fmt.Fprintf(&b, "    helper_%d(a)\n", h)
		}
		b.WriteString("\n\nif __name__ == \"__main__\":\n    bench_flow(1)\n")
		name := fmt.Sprintf("flow_%04d.py", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		eps = append(eps, name+":bench_flow")
	}
	return eps, nil
}

// BenchmarkLoad1000 reads 1,000 generated flow files of ~300 lines. With
// FLOWMETA_BENCH_DIR set, the files are written there and kept, so
// scripts/bench-flowmeta.sh can time Prefect's own static path on them.
func BenchmarkLoad1000(b *testing.B) {
	dir := os.Getenv("FLOWMETA_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	eps, err := GenerateBenchFiles(dir, 1000)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, ep := range eps {
			f, err := Load(ep, Options{ProjectDir: dir})
			if err != nil {
				b.Fatal(err)
			}
			if len(f.Warnings) > 0 {
				b.Fatalf("%s: %v", ep, f.Warnings)
			}
		}
	}
	// CPU time as well as wall time: on a shared machine wall time mostly
	// measures the neighbours.
	b.ReportMetric(float64(cpuTime()-cpu0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(len(eps)*b.N)/b.Elapsed().Seconds(), "files/s")
}

// cpuTime is the process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// TestBenchFilesAreRealistic keeps the generator honest: ~300 lines, and a
// flow the reader reads without warnings.
func TestBenchFilesAreRealistic(t *testing.T) {
	dir := t.TempDir()
	eps, err := GenerateBenchFiles(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "flow_0000.py"))
	if n := strings.Count(string(src), "\n"); n < 250 || n > 350 {
		t.Errorf("generated file has %d lines, want about 300", n)
	}
	f, err := Load(eps[1], Options{ProjectDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "bench-flow-1" || len(f.Warnings) > 0 {
		t.Errorf("got %s, warnings %v", f.Name, f.Warnings)
	}
	if _, ok := f.ParameterSchema.Get("definitions"); !ok {
		t.Error("bench flow should exercise definitions")
	}
}
