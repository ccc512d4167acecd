namespace Vgt.Runtime;
