// Command world imports the shared greeting package.
package main

import (
	"fmt"

	"example.com/gofntest/internal/greeting"
)

func main() { fmt.Println(greeting.For("world")) }
