using FsCheck.Xunit;

namespace MountFs.Blocks.Tests;

public sealed class CrashRecordingDeviceTests
{
    private const int Sector = 512;

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 100)]
    public void Passes_requests_through_and_the_full_log_reproduces_the_device(DeviceOperation[] operations)
    {
        var initial = DeviceModelCheck.Pattern(48 * Sector, 7, 0);
        var inner = new MemoryBlockDevice(initial);
        using var recorder = new CrashRecordingDevice(inner);
        var model = DeviceModelCheck.Run(recorder, operations, initial);
        int count = recorder.OperationCount;
        using var everything = recorder.MaterializeCrash(count, recorder.UnflushedWrites(count));
        Assert.True(everything.Contents.SequenceEqual(model));
        Assert.True(inner.Contents.SequenceEqual(model));
    }

    [Property(Arbitrary = [typeof(DeviceOperationArbitrary)], MaxTest = 40)]
    public void Enumerated_states_are_exactly_the_power_cut_states(DeviceOperation[] operations)
    {
        // Small device and short workload so that every subset is enumerated; the expected states come from a
        // sector-by-sector reading of the model: each sector holds its latest surviving write, else its durable value.
        var small = operations.Where(o => o.Kind != DeviceOperationKind.Read).Take(5)
            .Select(o => o with { SectorCount = Math.Min(o.SectorCount, 2) }).ToArray();
        var inner = new MemoryBlockDevice(DeviceModelCheck.Pattern(6 * Sector, 3, 0));
        using var recorder = new CrashRecordingDevice(inner);
        var initial = inner.ToArray();
        DeviceModelCheck.Run(recorder, small, initial);
        var log = recorder.Operations;

        foreach (bool torn in new[] { false, true })
        {
            var produced = recorder.EnumerateCrashStates(new CrashEnumerationOptions { MaxStatesPerCrashPoint = 1 << 16, TornWrites = torn })
                .GroupBy(s => s.OperationCount)
                .ToDictionary(g => g.Key, g => g.Select(s => Convert.ToHexString(s.Device.Contents)).ToHashSet());
            for (int point = 0; point <= log.Count; point++)
            {
                var expected = ExpectedStates(initial, log, point, torn);
                Assert.True(expected.SetEquals(produced[point]), $"crash point {point} (torn {torn}): expected {expected.Count} states, got {produced[point].Count}");
            }
        }
    }

    [Fact]
    public void A_hand_worked_workload_leaves_the_expected_states()
    {
        var inner = new MemoryBlockDevice(4 * Sector);
        using var recorder = new CrashRecordingDevice(inner);
        recorder.Write(0, Fill(2, 0xA1));          // 0: sectors 0-1 = A
        recorder.Flush();                          // 1
        recorder.Write(Sector, Fill(2, 0xB2));     // 2: sectors 1-2 = B
        recorder.Write(3 * Sector, Fill(1, 0xC3)); // 3: sector 3 = C
        recorder.Discard(0, Sector);               // 4: sector 0 = zeros

        Assert.Equal(1, recorder.LastFlushBefore(5));
        Assert.Equal([2, 3, 4], recorder.UnflushedWrites(5));
        Assert.Equal(-1, recorder.LastFlushBefore(1));

        Assert.Equal(Sectors(0, 0, 0, 0), recorder.MaterializeCrash(1, []).ToArray());
        Assert.Equal(Sectors(0xA1, 0xA1, 0, 0), recorder.MaterializeCrash(1, [0]).ToArray());
        Assert.Equal(Sectors(0xA1, 0xA1, 0, 0), recorder.MaterializeCrash(2, []).ToArray());
        Assert.Equal(Sectors(0xA1, 0xA1, 0, 0xC3), recorder.MaterializeCrash(5, [3]).ToArray());
        Assert.Equal(Sectors(0, 0xB2, 0xB2, 0), recorder.MaterializeCrash(5, [4, 2]).ToArray());
        Assert.Equal(Sectors(0xA1, 0xA1, 0xB2, 0), recorder.MaterializeTornCrash(5, [new SurvivingSector(2, 1)]).ToArray());

        Assert.Throws<ArgumentException>(() => recorder.MaterializeCrash(5, [0]));
        Assert.Throws<ArgumentException>(() => recorder.MaterializeCrash(5, [1]));
        Assert.Throws<ArgumentException>(() => recorder.MaterializeTornCrash(5, [new SurvivingSector(3, 1)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => recorder.MaterializeCrash(6, []));

        var atomic = recorder.EnumerateCrashStates(new CrashEnumerationOptions { FirstCrashPoint = 5 }).ToArray();
        Assert.Equal(8, atomic.Length);
        var torn = recorder.EnumerateCrashStates(new CrashEnumerationOptions { FirstCrashPoint = 5, TornWrites = true }).ToArray();
        Assert.Equal(16, torn.Length);

        var chosen = recorder.EnumerateCrashStates(new CrashEnumerationOptions { CrashPoints = [5, 1, 5] }).ToArray();
        Assert.Equal([1, 1, 5, 5, 5, 5, 5, 5, 5, 5], chosen.Select(s => s.OperationCount));
        Assert.Equal(Sectors(0xA1, 0xB2, 0xB2, 0xC3), chosen.Single(s => s.SurvivingWrites.SequenceEqual([2, 3])).Device.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => recorder.EnumerateCrashStates(new CrashEnumerationOptions { CrashPoints = [6] }));
    }

    [Fact]
    public void Large_workloads_are_sampled_deterministically_within_the_budget()
    {
        var inner = new MemoryBlockDevice(64 * Sector);
        using var recorder = new CrashRecordingDevice(inner);
        for (int i = 0; i < 20; i++)
            recorder.Write(i * Sector, Fill(1, (byte)(i + 1)));
        var options = new CrashEnumerationOptions { FirstCrashPoint = 20, MaxStatesPerCrashPoint = 40, Seed = 5 };
        var first = recorder.EnumerateCrashStates(options).Select(s => string.Join(',', s.SurvivingWrites)).ToArray();
        var second = recorder.EnumerateCrashStates(options).Select(s => string.Join(',', s.SurvivingWrites)).ToArray();
        Assert.Equal(40, first.Length);
        Assert.Equal(first, second);
        Assert.Equal(first.Length, first.Distinct().Count());
        Assert.Contains("", first);
        Assert.Contains(string.Join(',', Enumerable.Range(0, 20)), first);
        Assert.Contains("0,1,2", first);
    }

    [Fact]
    public void Records_what_a_cache_sends_on_flush()
    {
        var inner = new MemoryBlockDevice(16 * 4096);
        var recorder = new CrashRecordingDevice(inner, leaveOpen: true);
        using (var cache = new CachedBlockDevice(recorder, 16 * 4096, leaveOpen: true))
        {
            cache.Write(3 * 4096, Fill(8, 0x33));
            cache.Write(1 * 4096, Fill(8, 0x11));
            Assert.Equal(0, recorder.OperationCount);
            cache.Flush();
            Assert.Equal(3, recorder.OperationCount);
        }
        using var durable = recorder.MaterializeCrash(3, []);
        Assert.Equal(inner.ToArray(), durable.ToArray());
        using var beforeFlush = recorder.MaterializeCrash(2, [0]);
        Assert.Equal(0, beforeFlush.Contents[3 * 4096]);
        Assert.Equal(0x11, beforeFlush.Contents[1 * 4096]);
    }

    /// <summary>All images a power cut after <paramref name="point"/> operations can leave, computed per sector.</summary>
    private static HashSet<string> ExpectedStates(byte[] initial, IReadOnlyList<CrashOperation> log, int point, bool torn)
    {
        int flush = -1;
        for (int i = 0; i < point; i++)
            if (log[i].Kind == CrashOperationKind.Flush)
                flush = i;
        // Survival units: (operation, sector) pairs; atomic writes group all sectors of one operation.
        var units = new List<List<(int Op, int Sector)>>();
        for (int i = flush + 1; i < point; i++)
        {
            var sectors = Enumerable.Range(0, (int)(log[i].Length / Sector)).Select(s => (i, s)).ToList();
            if (torn)
                units.AddRange(sectors.Select(s => new List<(int, int)> { s }));
            else
                units.Add(sectors);
        }
        var states = new HashSet<string>();
        for (long mask = 0; mask < 1L << units.Count; mask++)
        {
            var surviving = new HashSet<(int, int)>();
            for (int u = 0; u < units.Count; u++)
                if ((mask & (1L << u)) != 0)
                    surviving.UnionWith(units[u]);
            var image = new byte[initial.Length];
            for (int sector = 0; sector < initial.Length / Sector; sector++)
            {
                byte[] value = initial.AsSpan(sector * Sector, Sector).ToArray();
                for (int i = 0; i < point; i++)
                {
                    var op = log[i];
                    long rel = sector * (long)Sector - op.Offset;
                    if (op.Kind == CrashOperationKind.Flush || rel < 0 || rel >= op.Length)
                        continue;
                    if (i < flush || surviving.Contains((i, (int)(rel / Sector))))
                        value = op.Kind == CrashOperationKind.Discard ? new byte[Sector] : op.Data.AsSpan((int)rel, Sector).ToArray();
                }
                value.CopyTo(image, sector * Sector);
            }
            states.Add(Convert.ToHexString(image));
        }
        return states;
    }

    private static byte[] Fill(int sectors, byte value) => Enumerable.Repeat(value, sectors * Sector).ToArray();

    private static byte[] Sectors(params byte[] values) => values.SelectMany(v => Enumerable.Repeat(v, Sector)).ToArray();
}
