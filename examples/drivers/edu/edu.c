// SPDX-License-Identifier: GPL-2.0-only
/*
 * edu: a driver for QEMU's "edu" educational PCI device
 * (vendor 0x1234, device 0x11e8; described in QEMU's docs/specs/edu.rst).
 *
 * The device has one 1 MiB memory BAR:
 *   0x00  identification, 0xRRrr00ed (RR major, rr minor version)
 *   0x04  liveness check: reads back the inverse of the value written
 *   0x08  factorial: write n, read n! (modulo 2^32) once no longer busy
 *   0x20  status: 0x01 computing (read-only), 0x80 interrupt when done
 *   0x24  interrupt status (read-only)
 *   0x60  interrupt raise: ORs the value into the interrupt status
 *   0x64  interrupt acknowledge: clears the value's bits
 *   0x80  DMA source address
 *   0x88  DMA destination address
 *   0x90  DMA byte count
 *   0x98  DMA command: 0x01 start, 0x02 device to RAM, 0x04 interrupt
 * A finished factorial raises interrupt status 0x001, a finished DMA
 * 0x100.  The DMA engine copies between RAM and a 4 KiB buffer that the
 * device sees at address 0x40000; it drives only 28 address bits.  QEMU
 * stops the whole machine on a DMA range outside that buffer, so every
 * range is checked here before the device sees it.  QEMU 7.2 (Debian 12)
 * also rejects, the same way, any range that ends at the end of the
 * buffer (an off-by-one in its range check), so the driver uses only the
 * first 4095 bytes: the last one cannot be reached there.
 *
 * At probe the driver tests each function of the device and reports on
 * the console; then it offers
 *   /dev/edu       the device's buffer (4095 bytes), read and written through
 *                  the DMA engine (later devices: /dev/edu1, /dev/edu2...)
 *   id             sysfs attributes of the PCI device:
 *   liveness         the identification register; the liveness register
 *   factorial        (write v, read ~v); factorial (write n <= 12, read n!);
 *   interrupts       the number of interrupts handled.
 */

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/kref.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>

#define EDU_VENDOR_ID		0x1234
#define EDU_DEVICE_ID		0x11e8
#define EDU_BAR_SIZE		(1024 * 1024)

#define EDU_ID			0x00
#define EDU_LIVENESS		0x04
#define EDU_FACTORIAL		0x08
#define EDU_STATUS		0x20
#define EDU_IRQ_STATUS		0x24
#define EDU_IRQ_RAISE		0x60
#define EDU_IRQ_ACK		0x64
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_COUNT		0x90
#define EDU_DMA_CMD		0x98

#define EDU_ID_MAGIC		0xed	/* low byte of the identification */

#define EDU_STATUS_BUSY		0x01	/* computing a factorial */
#define EDU_STATUS_IRQ_FACT	0x80	/* interrupt when it is done */

#define EDU_DMA_START		0x01
#define EDU_DMA_TO_RAM		0x02	/* else from RAM to the device */
#define EDU_DMA_IRQ		0x04

#define EDU_IRQ_FACT		0x00000001
#define EDU_IRQ_DMA		0x00000100
#define EDU_IRQ_TEST		0x12340000	/* raised by the self-test */

#define EDU_DMA_ADDR		0x40000	/* the device's buffer */
#define EDU_DMA_BUF_SIZE	4096	/* its size */
#define EDU_DMA_SIZE		(EDU_DMA_BUF_SIZE - 1)	/* QEMU 7.2: see above */
#define EDU_DMA_BITS		28

#define EDU_FACTORIAL_MAX	12	/* 13! does not fit in 32 bits */

static bool msi;
module_param(msi, bool, 0444);
MODULE_PARM_DESC(msi, "Use MSI instead of legacy INTx interrupts (default: no)");

static unsigned int timeout_ms = 3000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "How long to wait for the device's interrupt, in ms (default: 3000)");

static DEFINE_IDA(edu_ida);

struct edu {
	struct kref kref;	/* probe's and each open file's */
	struct pci_dev *pdev;
	void __iomem *regs;
	int irq;
	int index;		/* in edu_ida, or -1 */
	u32 id;

	/*
	 * Serialises use of the device (factorial, DMA, raised interrupts,
	 * the DMA buffer) and protects gone.
	 */
	struct mutex lock;
	bool gone;		/* removed: /dev/edu fails with ENODEV */

	struct completion fact_done;
	struct completion dma_done;
	struct completion raise_done;
	spinlock_t irq_lock;	/* protects raised */
	u32 raised;		/* other interrupt bits seen by the handler */
	atomic_t interrupts;	/* handled */

	void *buf;		/* coherent, EDU_DMA_BUF_SIZE bytes */
	dma_addr_t buf_dma;

	struct miscdevice misc;
	char name[16];
};

static void edu_free(struct kref *kref)
{
	struct edu *edu = container_of(kref, struct edu, kref);

	if (edu->index >= 0)
		ida_free(&edu_ida, edu->index);
	kfree(edu);
}

static void edu_put(void *data)
{
	struct edu *edu = data;

	kref_put(&edu->kref, edu_free);
}

static irqreturn_t edu_irq(int irq, void *data)
{
	struct edu *edu = data;
	u32 status, other;

	status = readl(edu->regs + EDU_IRQ_STATUS);
	/* Not ours (the line may be shared), or the device is gone. */
	if (status == 0 || status == ~0U)
		return IRQ_NONE;

	/* The device holds its INTx line until every bit is acknowledged. */
	writel(status, edu->regs + EDU_IRQ_ACK);
	atomic_inc(&edu->interrupts);

	if (status & EDU_IRQ_FACT)
		complete(&edu->fact_done);
	if (status & EDU_IRQ_DMA)
		complete(&edu->dma_done);
	other = status & ~(EDU_IRQ_FACT | EDU_IRQ_DMA);
	if (other) {
		spin_lock(&edu->irq_lock);
		edu->raised |= other;
		spin_unlock(&edu->irq_lock);
		complete(&edu->raise_done);
	}
	return IRQ_HANDLED;
}

static int edu_wait(struct completion *done)
{
	if (!wait_for_completion_timeout(done, msecs_to_jiffies(timeout_ms)))
		return -ETIMEDOUT;
	return 0;
}

/* Raise VALUE in the interrupt status; the handler's view in *SEEN. */
static int edu_raise(struct edu *edu, u32 value, u32 *seen)
{
	int ret;

	lockdep_assert_held(&edu->lock);
	spin_lock_irq(&edu->irq_lock);
	edu->raised = 0;
	spin_unlock_irq(&edu->irq_lock);
	reinit_completion(&edu->raise_done);

	writel(value, edu->regs + EDU_IRQ_RAISE);
	ret = edu_wait(&edu->raise_done);

	spin_lock_irq(&edu->irq_lock);
	*seen = edu->raised;
	spin_unlock_irq(&edu->irq_lock);
	return ret;
}

/* Compute N! with the device, waiting for its interrupt. */
static int edu_factorial(struct edu *edu, u32 n, u32 *result)
{
	int ret;

	lockdep_assert_held(&edu->lock);
	if (readl(edu->regs + EDU_STATUS) & EDU_STATUS_BUSY)
		return -EBUSY;
	reinit_completion(&edu->fact_done);

	writel(EDU_STATUS_IRQ_FACT, edu->regs + EDU_STATUS);
	writel(n, edu->regs + EDU_FACTORIAL);
	ret = edu_wait(&edu->fact_done);
	if (ret)
		return ret;
	if (readl(edu->regs + EDU_STATUS) & EDU_STATUS_BUSY)
		return -EIO;
	*result = readl(edu->regs + EDU_FACTORIAL);
	return 0;
}

/*
 * Copy LEN bytes between the start of edu->buf and the device's buffer at
 * OFFSET, TO_RAM or from it, waiting for the device's interrupt.
 */
static int edu_dma(struct edu *edu, bool to_ram, size_t offset, size_t len)
{
	u64 dev_addr = EDU_DMA_ADDR + offset;
	u32 cmd = EDU_DMA_START | EDU_DMA_IRQ;
	int ret;

	lockdep_assert_held(&edu->lock);
	if (len == 0 || offset >= EDU_DMA_SIZE || len > EDU_DMA_SIZE - offset)
		return -EINVAL;
	if (readl(edu->regs + EDU_DMA_CMD) & EDU_DMA_START)
		return -EBUSY;
	reinit_completion(&edu->dma_done);

	if (to_ram) {
		writeq(dev_addr, edu->regs + EDU_DMA_SRC);
		writeq(edu->buf_dma, edu->regs + EDU_DMA_DST);
		cmd |= EDU_DMA_TO_RAM;
	} else {
		writeq(edu->buf_dma, edu->regs + EDU_DMA_SRC);
		writeq(dev_addr, edu->regs + EDU_DMA_DST);
	}
	writeq(len, edu->regs + EDU_DMA_COUNT);
	writel(cmd, edu->regs + EDU_DMA_CMD);

	ret = edu_wait(&edu->dma_done);
	if (ret)
		return ret;
	if (readl(edu->regs + EDU_DMA_CMD) & EDU_DMA_START)
		return -EIO;
	return 0;
}

/* Stop the device's interrupts and wait for work it may still be doing. */
static void edu_quiesce(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	u32 val;

	writel(0, edu->regs + EDU_STATUS);
	if (readl_poll_timeout(edu->regs + EDU_DMA_CMD, val,
			       !(val & EDU_DMA_START), 10000, 1000000))
		dev_warn(dev, "DMA still running\n");
	if (readl_poll_timeout(edu->regs + EDU_STATUS, val,
			       !(val & EDU_STATUS_BUSY), 10000, 1000000))
		dev_warn(dev, "factorial still running\n");
	writel(readl(edu->regs + EDU_IRQ_STATUS), edu->regs + EDU_IRQ_ACK);
}

static const char *edu_strerror(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "no interrupt";
	case -EBUSY:
		return "device busy";
	case -EIO:
		return "device still busy after its interrupt";
	default:
		return "error";
	}
}

/* Self-tests: each prints one line "selftest NAME: ok" or "...: FAILED". */

static bool edu_test_liveness(struct edu *edu)
{
	static const u32 values[] = { 0x12345678, 0x00000000, 0xdeadbeef };
	struct device *dev = &edu->pdev->dev;
	unsigned int i;
	u32 got;

	for (i = 0; i < ARRAY_SIZE(values); i++) {
		writel(values[i], edu->regs + EDU_LIVENESS);
		got = readl(edu->regs + EDU_LIVENESS);
		if (got != ~values[i]) {
			dev_err(dev,
				"selftest liveness: FAILED (wrote 0x%08x, read 0x%08x, expected 0x%08x)\n",
				values[i], got, ~values[i]);
			return false;
		}
	}
	dev_info(dev, "selftest liveness: ok\n");
	return true;
}

static bool edu_test_interrupt(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	const char *mode = edu->pdev->msi_enabled ? "MSI" : "INTx";
	u32 seen, left;
	int ret;

	ret = edu_raise(edu, EDU_IRQ_TEST, &seen);
	if (ret) {
		dev_err(dev, "selftest interrupt: FAILED (%s, irq %d: %s)\n",
			mode, edu->irq, edu_strerror(ret));
		return false;
	}
	if (seen != EDU_IRQ_TEST) {
		dev_err(dev,
			"selftest interrupt: FAILED (raised 0x%08x, handler saw 0x%08x)\n",
			EDU_IRQ_TEST, seen);
		return false;
	}
	left = readl(edu->regs + EDU_IRQ_STATUS);
	if (left != 0) {
		dev_err(dev,
			"selftest interrupt: FAILED (status 0x%08x after acknowledge)\n",
			left);
		return false;
	}
	dev_info(dev, "selftest interrupt: ok (%s, irq %d)\n", mode, edu->irq);
	return true;
}

static bool edu_test_factorial(struct edu *edu)
{
	static const struct {
		u32 n, factorial;
	} cases[] = { { 5, 120 }, { 0, 1 }, { 12, 479001600 } };
	struct device *dev = &edu->pdev->dev;
	unsigned int i;
	u32 got;
	int ret;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ret = edu_factorial(edu, cases[i].n, &got);
		if (ret) {
			dev_err(dev, "selftest factorial: FAILED (%u!: %s)\n",
				cases[i].n, edu_strerror(ret));
			return false;
		}
		if (got != cases[i].factorial) {
			dev_err(dev,
				"selftest factorial: FAILED (%u! = %u, expected %u)\n",
				cases[i].n, got, cases[i].factorial);
			return false;
		}
	}
	dev_info(dev, "selftest factorial: ok (5! = 120, 0! = 1, 12! = 479001600)\n");
	return true;
}

static u8 edu_pattern(size_t i)
{
	return (u8)(i * 7 + 3) ^ (u8)(i >> 8);
}

static bool edu_test_dma(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	u8 *buf = edu->buf;
	const size_t part = 1000, part_len = 100;
	size_t i;
	int ret;

	for (i = 0; i < EDU_DMA_SIZE; i++)
		buf[i] = edu_pattern(i);
	ret = edu_dma(edu, false, 0, EDU_DMA_SIZE);
	if (ret) {
		dev_err(dev, "selftest dma: FAILED (to the device: %s)\n",
			edu_strerror(ret));
		return false;
	}

	memset(buf, 0, EDU_DMA_SIZE);
	ret = edu_dma(edu, true, 0, EDU_DMA_SIZE);
	if (ret) {
		dev_err(dev, "selftest dma: FAILED (from the device: %s)\n",
			edu_strerror(ret));
		return false;
	}
	for (i = 0; i < EDU_DMA_SIZE; i++)
		if (buf[i] != edu_pattern(i))
			goto differs;

	/* A part of the device's buffer, to the start of ours. */
	memset(buf, 0, EDU_DMA_SIZE);
	ret = edu_dma(edu, true, part, part_len);
	if (ret) {
		dev_err(dev, "selftest dma: FAILED (from offset %zu: %s)\n",
			part, edu_strerror(ret));
		return false;
	}
	for (i = 0; i < part_len; i++)
		if (buf[i] != edu_pattern(part + i))
			goto differs;
	for (i = part_len; i < EDU_DMA_SIZE; i++)
		if (buf[i] != 0)
			goto differs;

	dev_info(dev, "selftest dma: ok (%d bytes to the device and back, bus address %pad)\n",
		 EDU_DMA_SIZE, &edu->buf_dma);
	return true;

differs:
	dev_err(dev, "selftest dma: FAILED (byte %zu is 0x%02x)\n", i, buf[i]);
	return false;
}

static void edu_selftest(struct edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	unsigned int failed = 0;

	mutex_lock(&edu->lock);
	failed += !edu_test_liveness(edu);
	failed += !edu_test_interrupt(edu);
	failed += !edu_test_factorial(edu);
	failed += !edu_test_dma(edu);
	mutex_unlock(&edu->lock);

	if (failed)
		dev_err(dev, "selftest: %u of 4 FAILED\n", failed);
	else
		dev_info(dev, "selftest: all passed\n");
}

/* /dev/edu: the device's buffer, through its DMA engine. */

static struct edu *edu_from_file(struct file *file)
{
	/* misc_open() put the miscdevice there. */
	return container_of(file->private_data, struct edu, misc);
}

static int edu_open(struct inode *inode, struct file *file)
{
	kref_get(&edu_from_file(file)->kref);
	return 0;
}

static int edu_release(struct inode *inode, struct file *file)
{
	kref_put(&edu_from_file(file)->kref, edu_free);
	return 0;
}

static ssize_t edu_read(struct file *file, char __user *ubuf, size_t count,
			loff_t *ppos)
{
	struct edu *edu = edu_from_file(file);
	loff_t pos = *ppos;
	size_t len;
	ssize_t ret;

	if (pos < 0)
		return -EINVAL;
	if (pos >= EDU_DMA_SIZE || count == 0)
		return 0;
	len = min_t(size_t, count, EDU_DMA_SIZE - pos);

	if (mutex_lock_interruptible(&edu->lock))
		return -ERESTARTSYS;
	if (edu->gone) {
		ret = -ENODEV;
		goto out;
	}
	ret = edu_dma(edu, true, pos, len);
	if (ret)
		goto out;
	if (copy_to_user(ubuf, edu->buf, len)) {
		ret = -EFAULT;
		goto out;
	}
	*ppos = pos + len;
	ret = len;
out:
	mutex_unlock(&edu->lock);
	return ret;
}

static ssize_t edu_write(struct file *file, const char __user *ubuf,
			 size_t count, loff_t *ppos)
{
	struct edu *edu = edu_from_file(file);
	loff_t pos = *ppos;
	size_t len;
	ssize_t ret;

	if (pos < 0)
		return -EINVAL;
	if (count == 0)
		return 0;
	if (pos >= EDU_DMA_SIZE)
		return -ENOSPC;
	len = min_t(size_t, count, EDU_DMA_SIZE - pos);

	if (mutex_lock_interruptible(&edu->lock))
		return -ERESTARTSYS;
	if (edu->gone) {
		ret = -ENODEV;
		goto out;
	}
	if (copy_from_user(edu->buf, ubuf, len)) {
		ret = -EFAULT;
		goto out;
	}
	ret = edu_dma(edu, false, pos, len);
	if (ret)
		goto out;
	*ppos = pos + len;
	ret = len;
out:
	mutex_unlock(&edu->lock);
	return ret;
}

static loff_t edu_llseek(struct file *file, loff_t offset, int whence)
{
	return fixed_size_llseek(file, offset, whence, EDU_DMA_SIZE);
}

static const struct file_operations edu_fops = {
	.owner = THIS_MODULE,
	.open = edu_open,
	.release = edu_release,
	.read = edu_read,
	.write = edu_write,
	.llseek = edu_llseek,
};

/* sysfs attributes of the PCI device (only while the driver is bound). */

static ssize_t id_show(struct device *dev, struct device_attribute *attr,
		       char *buf)
{
	struct edu *edu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "0x%08x\n", edu->id);
}
static DEVICE_ATTR_RO(id);

static ssize_t liveness_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct edu *edu = dev_get_drvdata(dev);
	u32 val;

	mutex_lock(&edu->lock);
	val = readl(edu->regs + EDU_LIVENESS);
	mutex_unlock(&edu->lock);
	return sysfs_emit(buf, "0x%08x\n", val);
}

static ssize_t liveness_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t count)
{
	struct edu *edu = dev_get_drvdata(dev);
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;
	mutex_lock(&edu->lock);
	writel(val, edu->regs + EDU_LIVENESS);
	mutex_unlock(&edu->lock);
	return count;
}
static DEVICE_ATTR_RW(liveness);

static ssize_t factorial_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct edu *edu = dev_get_drvdata(dev);
	ssize_t ret;

	mutex_lock(&edu->lock);
	if (readl(edu->regs + EDU_STATUS) & EDU_STATUS_BUSY)
		ret = -EBUSY;
	else
		ret = sysfs_emit(buf, "%u\n",
				 readl(edu->regs + EDU_FACTORIAL));
	mutex_unlock(&edu->lock);
	return ret;
}

static ssize_t factorial_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t count)
{
	struct edu *edu = dev_get_drvdata(dev);
	u32 n, result;
	int ret;

	ret = kstrtou32(buf, 0, &n);
	if (ret)
		return ret;
	if (n > EDU_FACTORIAL_MAX)
		return -ERANGE;
	mutex_lock(&edu->lock);
	ret = edu_factorial(edu, n, &result);
	mutex_unlock(&edu->lock);
	return ret ? ret : count;
}
static DEVICE_ATTR_RW(factorial);

static ssize_t interrupts_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct edu *edu = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&edu->interrupts));
}
static DEVICE_ATTR_RO(interrupts);

static struct attribute *edu_attrs[] = {
	&dev_attr_id.attr,
	&dev_attr_liveness.attr,
	&dev_attr_factorial.attr,
	&dev_attr_interrupts.attr,
	NULL
};
ATTRIBUTE_GROUPS(edu);

static int edu_probe(struct pci_dev *pdev, const struct pci_device_id *ent)
{
	struct device *dev = &pdev->dev;
	struct edu *edu;
	unsigned int irq_types;
	int ret;

	edu = kzalloc(sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	kref_init(&edu->kref);
	edu->pdev = pdev;
	mutex_init(&edu->lock);
	spin_lock_init(&edu->irq_lock);
	init_completion(&edu->fact_done);
	init_completion(&edu->dma_done);
	init_completion(&edu->raise_done);
	edu->index = ida_alloc(&edu_ida, GFP_KERNEL);
	ret = devm_add_action_or_reset(dev, edu_put, edu);
	if (ret)
		return ret;
	if (edu->index < 0)
		return edu->index;
	if (edu->index == 0)
		strscpy(edu->name, "edu", sizeof(edu->name));
	else
		snprintf(edu->name, sizeof(edu->name), "edu%d", edu->index);
	pci_set_drvdata(pdev, edu);

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable the device\n");
	if (!(pci_resource_flags(pdev, 0) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, 0) < EDU_BAR_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "BAR0 is not 1 MiB of memory: %pR\n",
				     &pdev->resource[0]);
	ret = pcim_iomap_regions(pdev, BIT(0), KBUILD_MODNAME);
	if (ret)
		return dev_err_probe(dev, ret, "cannot map BAR0\n");
	edu->regs = pcim_iomap_table(pdev)[0];

	edu->id = readl(edu->regs + EDU_ID);
	if ((edu->id & 0xff) != EDU_ID_MAGIC)
		return dev_err_probe(dev, -ENODEV,
				     "not an edu device: id 0x%08x\n", edu->id);
	dev_info(dev, "id 0x%08x (version %u.%u)\n", edu->id, edu->id >> 24,
		 (edu->id >> 16) & 0xff);

	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		return dev_err_probe(dev, ret, "cannot set a %d-bit DMA mask\n",
				     EDU_DMA_BITS);
	edu->buf = dmam_alloc_coherent(dev, EDU_DMA_BUF_SIZE, &edu->buf_dma,
				       GFP_KERNEL);
	if (!edu->buf)
		return dev_err_probe(dev, -ENOMEM,
				     "cannot allocate the DMA buffer\n");

	/* From an earlier driver: no factorial interrupt, none pending. */
	writel(0, edu->regs + EDU_STATUS);
	writel(readl(edu->regs + EDU_IRQ_STATUS), edu->regs + EDU_IRQ_ACK);

	irq_types = PCI_IRQ_LEGACY;
	if (msi)
		irq_types |= PCI_IRQ_MSI;
	ret = pci_alloc_irq_vectors(pdev, 1, 1, irq_types);
	if (ret < 0)
		return dev_err_probe(dev, ret, "cannot allocate an interrupt\n");
	edu->irq = pci_irq_vector(pdev, 0);
	ret = devm_request_irq(dev, edu->irq, edu_irq, IRQF_SHARED,
			       KBUILD_MODNAME, edu);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request irq %d\n",
				     edu->irq);

	edu_selftest(edu);

	edu->misc.minor = MISC_DYNAMIC_MINOR;
	edu->misc.name = edu->name;
	edu->misc.fops = &edu_fops;
	edu->misc.parent = dev;
	ret = misc_register(&edu->misc);
	if (ret)
		return dev_err_probe(dev, ret, "cannot register /dev/%s\n",
				     edu->name);
	dev_info(dev, "ready: /dev/%s\n", edu->name);
	return 0;
}

/*
 * Managed resources (irq, DMA buffer, mapping, device) are released after
 * this; an open /dev/edu keeps struct edu, and fails from now on.
 */
static void edu_remove(struct pci_dev *pdev)
{
	struct edu *edu = pci_get_drvdata(pdev);

	misc_deregister(&edu->misc);
	mutex_lock(&edu->lock);
	edu->gone = true;
	edu_quiesce(edu);
	mutex_unlock(&edu->lock);
}

static const struct pci_device_id edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR_ID, EDU_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, edu_ids);

static struct pci_driver edu_driver = {
	.name = KBUILD_MODNAME,
	.id_table = edu_ids,
	.probe = edu_probe,
	.remove = edu_remove,
	.dev_groups = edu_groups,
};
module_pci_driver(edu_driver);

MODULE_DESCRIPTION("Driver for QEMU's edu educational PCI device");
MODULE_LICENSE("GPL");
