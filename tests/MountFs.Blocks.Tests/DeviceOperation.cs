using FsCheck;
using FsCheck.Fluent;
using MountFs.Blocks;

namespace MountFs.Blocks.Tests;

public enum DeviceOperationKind { Read, Write, Flush, Discard }

/// <summary>One random request, in sectors, to be clamped into a device of any size.</summary>
public sealed record DeviceOperation(DeviceOperationKind Kind, int StartSector, int SectorCount, byte Seed)
{
    public override string ToString() => $"{Kind}({StartSector}+{SectorCount}, seed {Seed})";
}

/// <summary>FsCheck generator of operation sequences (weighted towards writes and reads, shrinking by dropping operations).</summary>
public static class DeviceOperationArbitrary
{
    public static Arbitrary<DeviceOperation[]> Operations()
    {
        var kind = Gen.Frequency(
            (4, Gen.Constant(DeviceOperationKind.Write)),
            (4, Gen.Constant(DeviceOperationKind.Read)),
            (1, Gen.Constant(DeviceOperationKind.Flush)),
            (1, Gen.Constant(DeviceOperationKind.Discard)));
        var operation =
            from k in kind
            from start in Gen.Choose(0, 200)
            from count in Gen.Frequency((6, Gen.Choose(0, 4)), (3, Gen.Choose(5, 24)), (1, Gen.Choose(25, 80)))
            from seed in Gen.Choose(0, 255)
            select new DeviceOperation(k, start, count, (byte)seed);
        return Arb.From(Gen.ArrayOf(operation), Shrink);
    }

    private static IEnumerable<DeviceOperation[]> Shrink(DeviceOperation[] operations)
    {
        if (operations.Length > 1)
        {
            yield return operations[..(operations.Length / 2)];
            yield return operations[(operations.Length / 2)..];
        }
        for (int i = 0; i < operations.Length; i++)
            yield return [.. operations[..i], .. operations[(i + 1)..]];
    }
}

/// <summary>Runs operations against a device and a byte-array model of it, failing on the first difference.</summary>
public static class DeviceModelCheck
{
    /// <param name="afterEach">Extra invariant checked after each operation (e.g. a cache within its limit).</param>
    public static byte[] Run(IBlockDevice device, IEnumerable<DeviceOperation> operations, byte[]? initial = null, Action<DeviceOperation>? afterEach = null)
    {
        int sector = device.SectorSize;
        int sectors = (int)(device.Length / sector);
        byte[] model = initial is null ? new byte[device.Length] : (byte[])initial.Clone();
        foreach (var op in operations)
        {
            int start = sectors == 0 ? 0 : op.StartSector % sectors;
            int count = Math.Min(op.SectorCount, sectors - start);
            long offset = (long)start * sector;
            int length = count * sector;
            switch (op.Kind)
            {
                case DeviceOperationKind.Write:
                    byte[] data = Pattern(length, op.Seed, start);
                    device.Write(offset, data);
                    data.CopyTo(model, offset);
                    break;
                case DeviceOperationKind.Read:
                    byte[] read = new byte[length];
                    device.Read(offset, read);
                    Assert.True(read.AsSpan().SequenceEqual(model.AsSpan((int)offset, length)), $"{device.Name}: {op} returned wrong bytes");
                    break;
                case DeviceOperationKind.Flush:
                    device.Flush();
                    break;
                case DeviceOperationKind.Discard:
                    device.Discard(offset, length);
                    Array.Clear(model, (int)offset, length);
                    break;
            }
            afterEach?.Invoke(op);
        }
        byte[] all = new byte[device.Length];
        device.Read(0, all);
        Assert.True(all.AsSpan().SequenceEqual(model), $"{device.Name}: final contents differ from the model");
        return model;
    }

    /// <summary>Bytes that differ per sector and per seed, so misplaced sectors are caught.</summary>
    public static byte[] Pattern(int length, byte seed, int firstSector)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++)
            data[i] = (byte)(seed * 31 + (firstSector + i / 512) * 7 + i % 251 + 1);
        return data;
    }

    public static void AssertZero(ReadOnlySpan<byte> bytes)
    {
        int at = bytes.IndexOfAnyExcept((byte)0);
        Assert.True(at < 0, $"byte {at} of {bytes.Length} is {(at < 0 ? 0 : bytes[at])}, expected zero");
    }

    public static byte[] Contents(IBlockDevice device)
    {
        var all = new byte[device.Length];
        device.Read(0, all);
        return all;
    }
}
