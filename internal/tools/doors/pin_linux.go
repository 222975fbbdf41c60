//go:build linux

package main

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pin keeps every thread of process pid on CPU cpu, and so the threads
// and processes they start later, which inherit the mask. It reports
// whether it pinned any.
func pin(pid, cpu int) bool {
	var set unix.CPUSet
	set.Set(cpu)
	ok := false
	for range 2 { // a thread started during the first pass
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		if err != nil {
			return false
		}
		for _, task := range tasks {
			if tid, err := strconv.Atoi(task.Name()); err == nil && unix.SchedSetaffinity(tid, &set) == nil {
				ok = true
			}
		}
	}
	return ok
}
