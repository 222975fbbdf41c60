//go:build race

package arena

// raceDetector is set when the tests run under the race detector, which
// slows them tenfold.
const raceDetector = true
