using MountFs.ModelKit;
using MountFs.Vfs;
using Xunit.Abstractions;

namespace MountFs.Memory.Tests;

/// <summary>The kit run with the memory file system as its subject: the reference must agree with itself.</summary>
public class ModelKitTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Memory_subject_agrees_with_the_reference_over_long_runs(int seed)
    {
        // A "remount" that keeps the instance still exercises closing everything and comparing whole trees.
        var checker = new ModelChecker(() => new MemoryFileSystem(), new ModelOptions { Remount = fs => fs });
        var report = checker.Run(seed, 6000);
        output.WriteLine(report.ToString());
        Assert.Equal(6000, report.Operations);
        // The run must have reached the interesting corners, not just succeeded trivially.
        Assert.True(report.Count(OperationKind.Write, "ok") > 300);
        Assert.True(report.Count(OperationKind.Rename, "ok") > 100);
        Assert.True(report.Count(OperationKind.Rename, "ENOTEMPTY") + report.Count(OperationKind.Rename, "EINVAL") > 0);
        Assert.True(report.Count(OperationKind.Rmdir, "ENOTEMPTY") > 0);
        Assert.True(report.Count(OperationKind.Link, "ok") > 20);
        Assert.True(report.Count(OperationKind.Remount, "ok") > 10);
    }

    [Fact]
    public void Restricted_fat_like_subject_only_gets_what_it_supports()
    {
        var fatLike = new FileSystemCapabilities
        {
            HardLinks = false,
            Symlinks = false,
            Permissions = false,
            SpecialFiles = false,
            SparseFiles = false,
            CaseInsensitive = true,
            MaxFileSize = uint.MaxValue,
            TimeGranularity = TimeSpan.FromSeconds(2),
        };
        var checker = new ModelChecker(
            () => new MemoryFileSystem(new MemoryFileSystemOptions { Capabilities = fatLike }),
            new ModelOptions { AllowExchange = false });
        var report = checker.Run(3, 3000);
        output.WriteLine(report.ToString());
        Assert.Equal(0, report.Outcomes.GetValueOrDefault(OperationKind.Link)?.Count ?? 0);
        Assert.Equal(0, report.Outcomes.GetValueOrDefault(OperationKind.Symlink)?.Count ?? 0);
        Assert.Equal(0, report.Outcomes.GetValueOrDefault(OperationKind.Chmod)?.Count ?? 0);
        Assert.True(report.Count(OperationKind.WriteBeyondLimit, "EFBIG") > 0);
    }

    [Fact]
    public void Memory_subject_stays_consistent_under_concurrent_runs()
    {
        var checker = new ModelChecker(() => new MemoryFileSystem());
        var report = checker.RunConcurrently(seed: 20, threads: 4, operationsPerThread: 1000);
        Assert.Equal(4000, report.Operations);
        Assert.True(report.Count(OperationKind.Write, "ok") > 200);
    }

    [Fact]
    public void Concurrent_runs_report_the_diverging_thread()
    {
        var checker = new ModelChecker(() => new KitSelfTests.WrongErrno(new MemoryFileSystem()));
        var failure = Assert.Throws<ModelCheckException>(() => checker.RunConcurrently(seed: 20, threads: 3, operationsPerThread: 1000));
        Assert.Matches("^thread [0-2] ", failure.Reason);
        Assert.Contains("EEXIST", failure.Reason);
    }

    [Fact]
    public void Rejects_a_name_pool_that_case_folding_would_merge()
    {
        Assert.Throws<ArgumentException>(() => new ModelChecker(() => new MemoryFileSystem(),
            new ModelOptions { Names = ["readme", "README"] }));
    }

    [Fact]
    public void Files_stay_under_a_small_maximum_file_size()
    {
        var small = new FileSystemCapabilities { MaxFileSize = 100_000 };
        var checker = new ModelChecker(() => new MemoryFileSystem(new MemoryFileSystemOptions { Capabilities = small }));
        var report = checker.Run(4, 1500);
        Assert.True(report.Count(OperationKind.Write, "ok") > 100);
        Assert.Equal(0, report.Count(OperationKind.Write, "EFBIG"));
        Assert.True(report.Count(OperationKind.WriteBeyondLimit, "EFBIG") > 0);
    }

    /// <summary>The kit's property plugs straight into FsCheck.Xunit.</summary>
    [FsCheck.Xunit.Property(MaxTest = 10)]
    public FsCheck.Property Property_attribute_form_runs_generated_sequences() =>
        new ModelChecker(() => new MemoryFileSystem()).Property(maxLength: 120);

    [Fact]
    public void FsCheck_property_passes_for_the_memory_subject()
    {
        var checker = new ModelChecker(() => new MemoryFileSystem());
        checker.Check(maxTest: 15, maxLength: 150);
    }
}
