// Builds dnnl.node against Debian's oneDNN (libdnnl-dev) and copies the shared libraries it needs
// into lib/, where the addon finds them ($ORIGIN/lib, as DT_RPATH rather than RUNPATH, so that
// oneDNN finds its own dependencies there too): the package then runs on a machine without them, as
// sharp ships libvips. Where no compiler or no oneDNN headers are found, or they are not the
// oneDNN pinned below, it says so in one line and leaves no addon; @rxvision/backend then reports
// the native path missing and why.
//
// `compileAddon({ output, checked: true })` builds the checked variant the tests run under
// AddressSanitizer: every buffer the addon owns ends against a guard page (src/native-buffer.h).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Libraries copied beside the addon; anything else it links is part of every glibc system. */
const BUNDLED = /^lib(dnnl|gomp|OpenCL)\.so/;
/**
 * The oneDNN the addon is written and tested against (Debian 12's libdnnl-dev 2.6.3): 3.0 removed
 * the operation descriptors it uses, and src/dnnl.cc passes over implementations of 2.6.3's that
 * are wrong. Another 2.x builds with a warning; another major is refused.
 */
export const PINNED_ONEDNN = { major: 2, minor: 6, patch: 3 };

function which(command) {
  try {
    return execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The oneDNN version under `include`, from its dnnl_version.h. */
export function oneDnnVersion(include) {
  const header = readFileSync(join(include, 'oneapi', 'dnnl', 'dnnl_version.h'), 'utf8');
  const [major, minor, patch] = ['MAJOR', 'MINOR', 'PATCH'].map((part) =>
    Number(header.match(new RegExp(`#define DNNL_VERSION_${part} (\\d+)`))?.[1]),
  );
  return { major, minor, patch };
}

/** Why this machine cannot build the addon, in one line, or undefined where it can. */
export function buildProblem({
  include = process.env.DNNL_INCLUDE ?? '/usr/include',
  compiler = process.env.CXX ?? which('c++') ?? which('g++'),
} = {}) {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return `built for linux x64 only, this is ${process.platform} ${process.arch}`;
  if (!compiler) return 'no C++ compiler (apt-get install g++)';
  if (!existsSync(join(include, 'oneapi', 'dnnl', 'dnnl.hpp'))) return `no oneDNN headers under ${include} (apt-get install libdnnl-dev)`;
  const found = oneDnnVersion(include);
  if (found.major !== PINNED_ONEDNN.major)
    return `oneDNN ${found.major}.${found.minor}.${found.patch} under ${include}; the addon is written for ${PINNED_ONEDNN.major}.x`;
  return undefined;
}

/** Compiles src/dnnl.cc into `output`; `checked` adds AddressSanitizer and the guarded buffers. */
export function compileAddon({
  output,
  checked = false,
  include = process.env.DNNL_INCLUDE ?? '/usr/include',
  compiler = process.env.CXX ?? which('c++') ?? which('g++'),
  rpath = '$ORIGIN/lib',
}) {
  const napiInclude = join(dirname(createRequire(import.meta.url).resolve('node-api-headers/package.json')), 'include');
  const variant = checked ? ['-O1', '-g', '-fsanitize=address', '-fno-omit-frame-pointer', '-DRXVISION_DNNL_CHECKED'] : ['-O2'];
  execFileSync(
    compiler,
    [
      ...variant,
      '-std=c++17',
      '-Wall',
      '-Werror',
      '-shared',
      '-fPIC',
      '-fvisibility=hidden',
      '-fopenmp',
      `-I${napiInclude}`,
      `-I${include}`,
      join(here, 'src', 'dnnl.cc'),
      '-o',
      output,
      '-ldnnl',
      `-Wl,-rpath,${rpath}`,
      '-Wl,--as-needed',
      '-Wl,--disable-new-dtags',
    ],
    { stdio: 'inherit' },
  );
}

function build() {
  const addon = join(here, 'dnnl.node');
  const status = join(here, 'build-status.txt');
  const include = process.env.DNNL_INCLUDE ?? '/usr/include';
  const problem = buildProblem({ include });
  if (problem) {
    rmSync(addon, { force: true });
    rmSync(join(here, 'lib'), { recursive: true, force: true });
    writeFileSync(status, `${problem}\n`);
    console.log(`@rxvision/dnnl-linux-x64: no addon built: ${problem}`);
    return;
  }
  const version = oneDnnVersion(include);
  const pinned = Object.values(PINNED_ONEDNN).join('.');
  const found = Object.values(version).join('.');
  if (found !== pinned) console.warn(`@rxvision/dnnl-linux-x64: building against oneDNN ${found}; it is tested against ${pinned}`);
  compileAddon({ output: addon, include });
  // ldd lists each library the addon loads and where this system found it.
  const lib = join(here, 'lib');
  rmSync(lib, { recursive: true, force: true });
  mkdirSync(lib);
  const linked = execFileSync('ldd', [addon], { encoding: 'utf8' });
  const copied = [];
  for (const [, name, path] of linked.matchAll(/^\s*(\S+) => (\S+)/gm)) {
    if (!BUNDLED.test(name)) continue;
    copyFileSync(realpathSync(path), join(lib, name));
    copied.push(basename(name));
  }
  writeFileSync(status, `built against oneDNN ${found} at ${include}; bundled ${copied.join(', ')}\n`);
  console.log(`@rxvision/dnnl-linux-x64: built dnnl.node against oneDNN ${found}, bundled ${copied.join(', ')}`);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) build();
