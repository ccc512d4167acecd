// Compatibility fix for TorchSharp's libLibTorchSharp.so on systems whose libstdc++ predates GCC 13.
//
// libLibTorchSharp.so 0.107.0 was linked against GCC 13 and imports exactly one symbol at version
// GLIBCXX_3.4.32: std::ios_base_library_init(). Debian 12's libstdc++ stops at GLIBCXX_3.4.30, so the
// library fails to load. We rewrite three things in a *copy* of the library (never the NuGet cache):
//   1. the symbol's name in .dynstr becomes _ZSt15get_new_handlerv (harmless, exported by libstdc++ 12);
//   2. its .gnu.version entry becomes 1 (unversioned);
//   3. the GLIBCXX_3.4.32 Vernaux record gets VER_FLG_WEAK, so the loader tolerates its absence.
//
// This file is compiled three ways: as an MSBuild inline task (Directory.Build.targets), into the core
// library for `vgt info` (VGT_PATCHER_NO_TASK), and therefore into the tests. Keep it plain C#.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Vgt.Runtime
{
    /// <summary>What the library file looks like with respect to the GLIBCXX_3.4.32 import.</summary>
    public enum LibStdCxxPatchState
    {
        /// <summary>The file does not import anything at GLIBCXX_3.4.32 (nothing to do).</summary>
        NotApplicable,
        /// <summary>The file imports std::ios_base_library_init at GLIBCXX_3.4.32 and is unpatched.</summary>
        NeedsPatch,
        /// <summary>The file has already been rewritten by this fix.</summary>
        Patched,
    }

    /// <summary>What <see cref="LibStdCxxCompat.PatchIfNeeded"/> did.</summary>
    public enum LibStdCxxPatchOutcome
    {
        PatchedNow,
        AlreadyPatched,
        NotApplicable,
        NotNeededOnThisSystem,
    }

    /// <summary>A file the patcher does not understand or will not touch.</summary>
    public sealed class LibStdCxxPatchException : Exception
    {
        public LibStdCxxPatchException(string path, string problem)
            : base("Refusing to patch '" + path + "': " + problem) { }
    }

    public static class LibStdCxxCompat
    {
        public const string RequiredVersion = "GLIBCXX_3.4.32";
        public const string OldSymbol = "_ZSt21ios_base_library_initv";
        public const string NewSymbol = "_ZSt15get_new_handlerv";

        const uint ShtDynsym = 11, ShtDynamic = 6, ShtGnuVersym = 0x6fffffff, ShtGnuVerneed = 0x6ffffffe;
        const ushort VerFlagWeak = 0x2;
        const long MaxFileBytes = 512L * 1024 * 1024;

        // ---------------------------------------------------------------- system probe

        /// <summary>Paths where the dynamic loader would look for libstdc++.so.6, most specific first.</summary>
        public static IEnumerable<string> CandidateLibStdCxxPaths()
        {
            var ld = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ld))
                foreach (var dir in ld.Split(':'))
                    if (dir.Length > 0) yield return Path.Combine(dir, "libstdc++.so.6");
            foreach (var dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib" })
                yield return Path.Combine(dir, "libstdc++.so.6");
        }

        /// <summary>The libstdc++ the loader will use, or null when none is found.</summary>
        public static string? FindSystemLibStdCxx()
        {
            foreach (var p in CandidateLibStdCxxPaths())
                if (File.Exists(p)) return p;
            return null;
        }

        /// <summary>True when the libstdc++ in use defines the version our library needs (no patch needed).</summary>
        public static bool SystemHasRequiredVersion()
        {
            var lib = FindSystemLibStdCxx();
            if (lib == null) return false;
            return ContainsAscii(File.ReadAllBytes(lib), RequiredVersion + "\0");
        }

        static bool ContainsAscii(byte[] haystack, string needle)
        {
            var n = Encoding.ASCII.GetBytes(needle);
            for (int i = 0; i + n.Length <= haystack.Length; i++)
            {
                if (haystack[i] != n[0]) continue;
                int j = 1;
                while (j < n.Length && haystack[i + j] == n[j]) j++;
                if (j == n.Length) return true;
            }
            return false;
        }

        // ---------------------------------------------------------------- public entry points

        /// <summary>Reads the file and says whether it needs, or already has, the fix.</summary>
        public static LibStdCxxPatchState Inspect(string path)
        {
            var elf = Elf.Read(path);
            return elf.Plan().State;
        }

        /// <summary>
        /// Applies the fix to <paramref name="path"/> when the system lacks GLIBCXX_3.4.32 and the file needs it.
        /// Idempotent; writes through a temp file and an atomic rename; keeps the original modification time.
        /// </summary>
        public static LibStdCxxPatchOutcome PatchIfNeeded(string path, bool systemHasRequiredVersion)
        {
            if (systemHasRequiredVersion) return LibStdCxxPatchOutcome.NotNeededOnThisSystem;
            var elf = Elf.Read(path);
            var plan = elf.Plan();
            switch (plan.State)
            {
                case LibStdCxxPatchState.NotApplicable: return LibStdCxxPatchOutcome.NotApplicable;
                case LibStdCxxPatchState.Patched: return LibStdCxxPatchOutcome.AlreadyPatched;
            }
            elf.Apply(plan);
            var mtime = File.GetLastWriteTimeUtc(path);
            var tmp = path + ".vgtpatch.tmp";
            try
            {
                // Copy first so the temp file has the original's permissions, then overwrite its bytes.
                File.Copy(path, tmp, true);
                using (var fs = new FileStream(tmp, FileMode.Truncate, FileAccess.Write))
                    fs.Write(elf.Bytes, 0, elf.Bytes.Length);
                File.SetLastWriteTimeUtc(tmp, mtime);
                // Atomic rename over the original; also breaks any hard link into the NuGet cache.
                File.Replace(tmp, path, null);
            }
            finally
            {
                if (File.Exists(tmp)) File.Delete(tmp);
            }
            return LibStdCxxPatchOutcome.PatchedNow;
        }

        // ---------------------------------------------------------------- ELF reading

        sealed class Section
        {
            public uint Type; public long Offset; public long Size; public uint Link; public long EntSize;
        }

        sealed class PatchPlan
        {
            public LibStdCxxPatchState State;
            public long NameOffset;      // file offset of the old symbol name in .dynstr
            public long VersymOffset;    // file offset of the symbol's .gnu.version entry
            public long VernauxFlagsOffset; // file offset of the GLIBCXX_3.4.32 vna_flags
        }

        sealed class Elf
        {
            public readonly byte[] Bytes;
            readonly string path;
            readonly List<Section> sections = new List<Section>();

            Elf(string path, byte[] bytes) { this.path = path; Bytes = bytes; }

            LibStdCxxPatchException Refuse(string problem) => new LibStdCxxPatchException(path, problem);

            public static Elf Read(string path)
            {
                var info = new FileInfo(path);
                if (!info.Exists) throw new LibStdCxxPatchException(path, "file not found");
                if (info.Length > MaxFileBytes) throw new LibStdCxxPatchException(path, "file is larger than " + MaxFileBytes + " bytes");
                var elf = new Elf(path, File.ReadAllBytes(path));
                elf.ParseHeaders();
                return elf;
            }

            ushort U16(long o) { Check(o, 2); return (ushort)(Bytes[o] | Bytes[o + 1] << 8); }
            uint U32(long o) { Check(o, 4); return BitConverter.ToUInt32(Bytes, (int)o); }
            long U64(long o)
            {
                Check(o, 8);
                ulong v = BitConverter.ToUInt64(Bytes, (int)o);
                if (v > long.MaxValue) throw Refuse("offset or size out of range at 0x" + o.ToString("x"));
                return (long)v;
            }
            void Check(long o, long n)
            {
                if (o < 0 || n < 0 || o + n > Bytes.Length) throw Refuse("truncated or corrupt ELF (read past end at 0x" + o.ToString("x") + ")");
            }

            void ParseHeaders()
            {
                if (Bytes.Length < 64 || Bytes[0] != 0x7f || Bytes[1] != (byte)'E' || Bytes[2] != (byte)'L' || Bytes[3] != (byte)'F')
                    throw Refuse("not an ELF file");
                if (Bytes[4] != 2) throw Refuse("not a 64-bit ELF file");
                if (Bytes[5] != 1) throw Refuse("not a little-endian ELF file");
                if (!BitConverter.IsLittleEndian) throw Refuse("this patcher runs on little-endian hosts only");
                long shoff = U64(0x28);
                int shentsize = U16(0x3A), shnum = U16(0x3C);
                if (shentsize != 64) throw Refuse("unexpected section header size " + shentsize);
                if (shnum == 0 || shnum > 4096) throw Refuse("implausible section count " + shnum);
                Check(shoff, (long)shnum * shentsize);
                for (int i = 0; i < shnum; i++)
                {
                    long h = shoff + (long)i * shentsize;
                    var s = new Section { Type = U32(h + 4), Offset = U64(h + 24), Size = U64(h + 32), Link = U32(h + 40), EntSize = U64(h + 56) };
                    if (s.Type != 8 /* NOBITS */) Check(s.Offset, s.Size);
                    sections.Add(s);
                }
            }

            Section Single(uint type, string name)
            {
                Section? found = null;
                foreach (var s in sections)
                    if (s.Type == type)
                    {
                        if (found != null) throw Refuse("more than one " + name + " section");
                        found = s;
                    }
                if (found == null) throw Refuse("no " + name + " section");
                return found;
            }

            string CString(Section strtab, long index)
            {
                if (index < 0 || index >= strtab.Size) throw Refuse("string index out of range");
                long start = strtab.Offset + index, end = start;
                long limit = strtab.Offset + strtab.Size;
                while (end < limit && Bytes[end] != 0) end++;
                if (end == limit) throw Refuse("unterminated string in string table");
                return Encoding.ASCII.GetString(Bytes, (int)start, (int)(end - start));
            }

            public PatchPlan Plan()
            {
                var dynsym = Single(ShtDynsym, ".dynsym");
                if (dynsym.EntSize != 24) throw Refuse(".dynsym entry size is not 24");
                if (dynsym.Link >= sections.Count) throw Refuse(".dynsym links to a missing string table");
                var dynstr = sections[(int)dynsym.Link];
                var versym = Single(ShtGnuVersym, ".gnu.version");
                var verneed = Single(ShtGnuVerneed, ".gnu.version_r");
                long nsym = dynsym.Size / 24;
                if (versym.Size < nsym * 2) throw Refuse(".gnu.version is shorter than .dynsym");

                // Every .dynstr offset that something refers to, to detect shared string tails.
                var referenced = new List<(long index, string who)>();

                // 1. Find GLIBCXX_3.4.32 among the version requirements.
                long vernauxFlags = -1; int versionIndex = -1; bool weak = false;
                long vn = verneed.Offset, vnEnd = verneed.Offset + verneed.Size;
                for (int guard = 0; guard < 1024; guard++)
                {
                    if (vn + 16 > vnEnd) throw Refuse("corrupt .gnu.version_r");
                    int cnt = U16(vn + 2);
                    referenced.Add((U32(vn + 4), "vn_file"));
                    long aux = vn + U32(vn + 8);
                    for (int a = 0; a < cnt; a++)
                    {
                        if (aux < verneed.Offset || aux + 16 > vnEnd) throw Refuse("corrupt Vernaux record");
                        uint nameIdx = U32(aux + 8);
                        referenced.Add((nameIdx, "vna_name"));
                        if (CString(dynstr, nameIdx) == RequiredVersion)
                        {
                            vernauxFlags = aux + 4;
                            versionIndex = U16(aux + 6) & 0x7fff;
                            weak = (U16(aux + 4) & VerFlagWeak) != 0;
                        }
                        uint next = U32(aux + 12);
                        if (next == 0) break;
                        aux += next;
                    }
                    uint vnNext = U32(vn + 12);
                    if (vnNext == 0) break;
                    vn += vnNext;
                }

                // Dynamic section string references (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH).
                foreach (var s in sections)
                    if (s.Type == ShtDynamic)
                        for (long d = s.Offset; d + 16 <= s.Offset + s.Size; d += 16)
                        {
                            long tag = U64(d);
                            if (tag == 0) break;
                            if (tag == 1 || tag == 14 || tag == 15 || tag == 29) referenced.Add((U64(d + 8), "dynamic"));
                        }

                // 2. Find the old (or new) symbol and every user of the version index.
                long oldSym = -1, oldNameIdx = -1; int usersOfVersion = 0;
                for (long i = 1; i < nsym; i++)
                {
                    long e = dynsym.Offset + i * 24;
                    uint nameIdx = U32(e);
                    referenced.Add((nameIdx, "symbol"));
                    int ver = U16(versym.Offset + i * 2) & 0x7fff;
                    if (versionIndex >= 0 && ver == versionIndex) usersOfVersion++;
                    if (nameIdx != 0 && CString(dynstr, nameIdx) == OldSymbol)
                    {
                        if (oldSym >= 0) throw Refuse("the symbol " + OldSymbol + " appears twice");
                        oldSym = i; oldNameIdx = nameIdx;
                    }
                }

                var plan = new PatchPlan();
                if (oldSym < 0)
                {
                    if (versionIndex < 0) { plan.State = LibStdCxxPatchState.NotApplicable; return plan; }
                    if (usersOfVersion > 0) throw Refuse("it needs " + RequiredVersion + " for symbols other than " + OldSymbol);
                    if (!weak) throw Refuse("it requires " + RequiredVersion + " without any symbol using it");
                    plan.State = LibStdCxxPatchState.Patched;
                    return plan;
                }
                if (versionIndex < 0) throw Refuse(OldSymbol + " is present but no " + RequiredVersion + " requirement was found");
                int symVersion = U16(versym.Offset + oldSym * 2) & 0x7fff;
                if (symVersion != versionIndex) throw Refuse(OldSymbol + " is not bound to " + RequiredVersion);
                if (usersOfVersion != 1) throw Refuse("another symbol also uses " + RequiredVersion);
                foreach (var r in referenced)
                    if (r.index > oldNameIdx && r.index < oldNameIdx + OldSymbol.Length)
                        throw Refuse("another string (" + r.who + ") shares the tail of " + OldSymbol);

                plan.State = LibStdCxxPatchState.NeedsPatch;
                plan.NameOffset = dynstr.Offset + oldNameIdx;
                plan.VersymOffset = versym.Offset + oldSym * 2;
                plan.VernauxFlagsOffset = vernauxFlags;
                return plan;
            }

            public void Apply(PatchPlan plan)
            {
                var name = Encoding.ASCII.GetBytes(NewSymbol);
                for (int i = 0; i < OldSymbol.Length; i++)
                    Bytes[plan.NameOffset + i] = i < name.Length ? name[i] : (byte)0;
                Bytes[plan.VersymOffset] = 1;
                Bytes[plan.VersymOffset + 1] = 0;
                ushort flags = (ushort)(U16(plan.VernauxFlagsOffset) | VerFlagWeak);
                Bytes[plan.VernauxFlagsOffset] = (byte)flags;
                Bytes[plan.VernauxFlagsOffset + 1] = (byte)(flags >> 8);
            }
        }
    }
}

#if !VGT_PATCHER_NO_TASK
/// <summary>MSBuild task: patch every libLibTorchSharp.so in an output folder when the system needs it.</summary>
public class PatchLibTorchSharpForOldLibStdCxx : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public string Directory { get; set; } = "";

    public override bool Execute()
    {
        if (!System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Linux)
            || !System.IO.Directory.Exists(Directory)) return true;
        var candidates = new[]
        {
            System.IO.Path.Combine(Directory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
            System.IO.Path.Combine(Directory, "libLibTorchSharp.so"),
        };
        bool systemOk = Vgt.Runtime.LibStdCxxCompat.SystemHasRequiredVersion();
        foreach (var file in candidates)
        {
            if (!System.IO.File.Exists(file)) continue;
            try
            {
                var outcome = Vgt.Runtime.LibStdCxxCompat.PatchIfNeeded(file, systemOk);
                var importance = outcome == Vgt.Runtime.LibStdCxxPatchOutcome.PatchedNow
                    ? Microsoft.Build.Framework.MessageImportance.High : Microsoft.Build.Framework.MessageImportance.Low;
                Log.LogMessage(importance, "libstdc++ compatibility fix for " + file + ": " + outcome);
            }
            catch (Vgt.Runtime.LibStdCxxPatchException e)
            {
                Log.LogError(e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif
