// FUSE exists only on Linux; every test here mounts or speaks its protocol.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// One test class at a time: a process that another class starts (cp, tar, the watchdog's sh) holds a copy of
// every open descriptor between its fork and its exec, close-on-exec or not, so a test that closes its file and
// unmounts at that instant gets EBUSY ("target is busy", seen once in CI). Within a class tests never overlap.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
