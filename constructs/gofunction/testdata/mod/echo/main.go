// Command echo prints its arguments; it is the fourth handler of the benchmark.
package main

import (
	"fmt"
	"os"
)

func main() { fmt.Println(os.Args[1:]) }
