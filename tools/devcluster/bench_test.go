package main

import "testing"

// BenchmarkStartToReady starts the built command with the default topology
// and reports the time to its "ready" line and the process's peak resident
// memory at that point. Run it alone so that no other cluster competes:
//
//	go test -run '^$' -bench StartToReady -benchtime 3x
func BenchmarkStartToReady(b *testing.B) {
	var seconds, peakMiB float64
	runs := 0
	for b.Loop() {
		process, err := startDevcluster()
		if err != nil {
			b.Fatal(err)
		}
		peak, err := process.peakRSSBytes()
		if err != nil {
			b.Fatal(err)
		}
		if err := process.stop(); err != nil {
			b.Fatal(err)
		}
		seconds += process.readyAfter.Seconds()
		peakMiB = max(peakMiB, float64(peak)/(1<<20))
		runs++
	}
	b.ReportMetric(seconds/float64(runs), "s-to-ready")
	b.ReportMetric(peakMiB, "MiB-peak-RSS")
}
