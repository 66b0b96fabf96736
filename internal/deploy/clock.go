package deploy

import "time"

// timeNow is the clock; a variable so tests can stop it.
var timeNow = time.Now
